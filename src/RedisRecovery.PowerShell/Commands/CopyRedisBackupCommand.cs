using System;
using System.Management.Automation;
using System.Security;
using RedisRecovery.Backup;
using RedisRecovery.Storage;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>
    /// Copies backups (file and sidecar) to a directory or an S3 prefix, checking every byte against the source's
    /// sidecar before the copy is committed; -Encrypt writes an OpenPGP file gpg can decrypt, -Decrypt the plain RDB.
    /// </summary>
    [Cmdlet(VerbsCommon.Copy, "RedisBackup", DefaultParameterSetName = PassphraseSet, SupportsShouldProcess = true)]
    [OutputType(typeof(RdbBackup))]
    public sealed class CopyRedisBackupCommand : RedisRecoveryCmdlet, IDynamicParameters
    {
        public const string PassphraseSet = nameof(Passphrase);
        public const string PassphraseCredentialSet = nameof(PassphraseCredential);

        private readonly BackupStoreParameters _store = new();

        /// <summary>The backup file: a local path or s3://bucket/prefix/file (the Path of Get-RedisBackup output).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = string.Empty;

        /// <summary>A directory (created when missing) or s3://bucket/prefix.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Destination { get; set; } = string.Empty;

        /// <summary>Writes an OpenPGP-encrypted copy (&lt;file&gt;.gpg) of a plain backup; needs a passphrase.</summary>
        [Parameter]
        public SwitchParameter Encrypt { get; set; }

        /// <summary>Writes the plain RDB of an encrypted backup; needs its passphrase.</summary>
        [Parameter]
        public SwitchParameter Decrypt { get; set; }

        [Parameter(ParameterSetName = PassphraseSet)]
        public SecureString? Passphrase { get; set; }

        /// <summary>The passphrase as the password of a credential (e.g. from a secret vault); the user name is ignored.</summary>
        [Parameter(Mandatory = true, ParameterSetName = PassphraseCredentialSet)]
        public PSCredential? PassphraseCredential { get; set; }

        public object GetDynamicParameters() => _store;

        protected override void BeginProcessing()
        {
            var hasPassphrase = Passphrase != null || PassphraseCredential != null;
            var problem = Encrypt && Decrypt ? "Give -Encrypt or -Decrypt, not both."
                : (Encrypt || Decrypt) && !hasPassphrase ? "-Encrypt and -Decrypt need -Passphrase or -PassphraseCredential."
                : hasPassphrase && !Encrypt && !Decrypt ? "A passphrase is used with -Encrypt (write an encrypted copy) or -Decrypt (write the plain RDB)."
                : null;
            if (problem != null)
            {
                ThrowTerminatingError(ToErrorRecord(new RedisRecoveryException("PassphraseMisuse", FailureKind.InvalidArgument, problem), null));
            }
        }

        protected override void ProcessRecord()
        {
            var options = new BackupCopyOptions
            {
                Mode = Encrypt ? BackupCopyMode.Encrypt : Decrypt ? BackupCopyMode.Decrypt : BackupCopyMode.AsIs,
                Passphrase = PassphraseCredential?.Password ?? Passphrase,
            };
            IBackupStore? source = null;
            IBackupStore? destination = null;
            try
            {
                source = BackupStoreLocation.OpenContaining(this, Path, _store, out var fileName);
                destination = BackupStoreLocation.Open(this, Destination, _store);
                var action = options.Mode switch
                {
                    BackupCopyMode.Encrypt => $"Copy backup {Path}, encrypted, with its sidecar",
                    BackupCopyMode.Decrypt => $"Copy backup {Path}, decrypted, with its sidecar",
                    _ => $"Copy backup {Path} with its sidecar",
                };
                if (ShouldProcess(destination.Location, action))
                {
                    var from = source;
                    var to = destination;
                    WriteObject(RunEngine(hooks => BackupCopier.CopyAsync(from, fileName, to, options, hooks.Progress, hooks.Log, hooks.Cancellation)));
                }
            }
            catch (Exception ex) when (!(ex is PipelineStoppedException))
            {
                WriteError(ToErrorRecord(ex, Path));
            }
            finally
            {
                BackupStoreLocation.Close(source);
                BackupStoreLocation.Close(destination);
            }
        }
    }
}
