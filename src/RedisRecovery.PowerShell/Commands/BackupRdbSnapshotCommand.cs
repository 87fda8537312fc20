using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using System.Security;
using RedisRecovery.Backup;
using RedisRecovery.Storage;
using RedisRecovery.Storage.S3;
using RedisRecovery.Resp;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>
    /// Takes a point-in-time RDB backup of each endpoint into a directory, atomically, checksummed and verified,
    /// with a sidecar, and outputs the cataloged backup. Endpoints from the pipeline run one after the other, or
    /// up to -ThrottleLimit at once.
    /// </summary>
    [Cmdlet(VerbsData.Backup, "RdbSnapshot", SupportsShouldProcess = true, DefaultParameterSetName = DirectoryParameterSet)]
    [OutputType(typeof(RdbBackup))]
    public sealed class BackupRdbSnapshotCommand : RedisEndpointCmdlet, IDynamicParameters
    {
        public const string DirectoryParameterSet = "Directory";
        // Endpoints waiting for EndProcessing (with -ThrottleLimit above 1): as shown to the user, and as connected to.
        private readonly List<(string Shown, RedisConnectionOptions Connection)> _queued = new();
        private readonly BackupStoreParameters _store = new();

        /// <summary>host:port, redis://, rediss:// or a unix socket path; Get-RedisInstanceStatus objects bind by their Endpoint.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Endpoint { get; set; } = null!;

        /// <summary>
        /// The backup directory (created when missing), or s3://bucket/prefix: the snapshot is then taken into a private
        /// temporary directory, copied up verified (encrypted with -Encrypt) and removed locally.
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = DirectoryParameterSet)]
        [ValidateNotNullOrEmpty]
        public string Destination { get; set; } = null!;

        /// <summary>The backup series in the file name; default host-port of the endpoint.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        [Parameter]
        public SnapshotMethod Method { get => (SnapshotMethod)_method; set => _method = (int)value; }

        // Stored as int: Import-Module lists this type before the module initializer makes the engine loadable, and a
        // field of an engine value type would make the runtime load the engine then (ImportOrderTests).
        private int _method = (int)SnapshotMethod.Auto;

        /// <summary>Limit on commands per second of the logical method, so it does not starve the source.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxOpsPerSecond { get; set; }

        /// <summary>Endpoints backed up at the same time; 1 (the default) backs them up one after the other.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 1;

        /// <summary>Longest silence from the server, and longest wait for a BGSAVE to finish.</summary>
        [Parameter]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>Writes the backup as an OpenPGP-encrypted file (.rdb.gpg) that gpg can decrypt; needs -Passphrase.</summary>
        [Parameter]
        public SwitchParameter Encrypt { get; set; }

        [Parameter]
        public SecureString? Passphrase { get; set; }

        public object GetDynamicParameters() => _store;

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (Encrypt != (Passphrase != null))
            {
                ThrowTerminatingError(ToErrorRecord(new RedisRecoveryException("PassphraseMisuse", FailureKind.InvalidArgument,
                    "-Encrypt and -Passphrase go together."), Destination));
            }
            if (!S3Location.IsS3Uri(Destination))
            {
                Destination = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination);
            }
        }

        protected override void ProcessRecord()
        {
            foreach (var endpoint in Endpoint)
            {
                var shown = RedisEndpoint.Redact(endpoint);
                if (!ShouldProcess($"{shown} -> {Destination}", "Back up RDB snapshot"))
                {
                    continue;
                }
                // Built here, not in the engine task: the TLS file paths resolve through session state, which only
                // the pipeline thread may touch.
                RedisConnectionOptions connection;
                try
                {
                    connection = CreateConnectionOptions(RedisEndpoint.Parse(endpoint));
                }
                catch (Exception failure) when (failure is not PipelineStoppedException)
                {
                    WriteError(ToErrorRecord(failure, shown));
                    continue;
                }
                connection.CommandTimeout = Timeout;
                if (ThrottleLimit > 1)
                {
                    _queued.Add((shown, connection));
                }
                else
                {
                    Report(shown, RunEngine(hooks => BackupAsync(connection, hooks)));
                }
            }
        }

        protected override void EndProcessing()
        {
            if (_queued.Count == 0)
            {
                return;
            }
            var outcomes = RunEngine(async hooks =>
            {
                using var slots = new SemaphoreSlim(ThrottleLimit);
                return await Task.WhenAll(_queued.Select(async queued =>
                {
                    await slots.WaitAsync(hooks.Cancellation).ConfigureAwait(false);
                    try
                    {
                        return await BackupAsync(queued.Connection, hooks).ConfigureAwait(false);
                    }
                    finally
                    {
                        slots.Release();
                    }
                })).ConfigureAwait(false);
            });
            for (var i = 0; i < outcomes.Length; i++)
            {
                Report(_queued[i].Shown, outcomes[i]);
            }
        }

        /// <summary>One endpoint's backup; a failure is returned, not thrown, so the other endpoints go on.</summary>
        private async Task<(RdbBackup? Backup, Exception? Failure)> BackupAsync(RedisConnectionOptions connection, EngineHooks hooks)
        {
            try
            {
                var copied = S3Location.IsS3Uri(Destination) || Encrypt;
                var directory = copied ? LocalBackupCopy.CreatePrivateTemporaryDirectory() : Destination;
                var request = new SnapshotRequest(connection, directory)
                {
                    Name = Name,
                    Method = Method,
                    MaxOpsPerSecond = MaxOpsPerSecond > 0 ? MaxOpsPerSecond : null,
                    Timeout = Timeout,
                };
                try
                {
                    var backup = await SnapshotBackup.RunAsync(request, hooks.Progress, hooks.Log, hooks.Cancellation).ConfigureAwait(false);
                    return (copied ? await CopyToDestinationAsync(backup, directory, hooks).ConfigureAwait(false) : backup, null);
                }
                finally
                {
                    if (copied && System.IO.Directory.Exists(directory))
                    {
                        System.IO.Directory.Delete(directory, recursive: true);
                    }
                }
            }
            catch (Exception failure) when (failure is not OperationCanceledException || !hooks.Cancellation.IsCancellationRequested)
            {
                return (null, failure);
            }
        }

        /// <summary>S3 or encrypted destinations: the snapshot taken into a temporary directory goes there verified.</summary>
        private async Task<RdbBackup> CopyToDestinationAsync(RdbBackup backup, string directory, EngineHooks hooks)
        {
            IBackupStore destination = S3Location.IsS3Uri(Destination) ? new S3BackupStore(S3Location.Parse(Destination), _store.ToOptions()) : new LocalDirectoryStore(Destination);
            try
            {
                var options = new BackupCopyOptions { Mode = Encrypt ? BackupCopyMode.Encrypt : BackupCopyMode.AsIs, Passphrase = Passphrase };
                return await BackupCopier.CopyAsync(new LocalDirectoryStore(directory), backup.FileName, destination, options, hooks.Progress, hooks.Log, hooks.Cancellation)
                    .ConfigureAwait(false);
            }
            finally
            {
                BackupStoreLocation.Close(destination);
            }
        }

        /// <summary>Writes one endpoint's outcome; <paramref name="endpoint"/> is the typed text with any password hidden.</summary>
        private void Report(string endpoint, (RdbBackup? Backup, Exception? Failure) outcome)
        {
            if (outcome.Backup != null)
            {
                WriteObject(outcome.Backup);
            }
            else
            {
                WriteError(ToErrorRecord(outcome.Failure!, endpoint));
            }
        }
    }
}
