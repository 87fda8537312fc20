using System;
using System.IO;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// A plain, verified copy of a backup in a private temporary directory, for operations that read a local RDB file
    /// (restore, deep verification) when the backup is on S3 or encrypted. Disposing removes the directory.
    /// </summary>
    public sealed class LocalBackupCopy : IDisposable
    {
        private readonly string _directory;

        private LocalBackupCopy(string directory, RdbBackup backup, string originalName)
        {
            _directory = directory;
            Backup = backup;
            OriginalName = originalName;
        }

        /// <summary>The backup this is a copy of, as a user names it (s3://bucket/prefix/name, or the encrypted file).</summary>
        public string OriginalName { get; }

        /// <summary>The plain copy (Verified), in the temporary directory.</summary>
        public RdbBackup Backup { get; }

        public string Path => Backup.Path;

        /// <summary>True when a backup at <paramref name="path"/> must be fetched or decrypted before it is read as an RDB file.</summary>
        public static bool IsNeededFor(string path) =>
            Storage.S3.S3Location.IsS3Uri(path) || BackupFileName.IsEncrypted(System.IO.Path.GetFileName(path));

        /// <summary>Downloads (and, when encrypted, decrypts with <paramref name="passphrase"/>) the backup, checked against its sidecar.</summary>
        public static async Task<LocalBackupCopy> CreateAsync(IBackupStore source, string fileName, SecureString? passphrase,
            IProgress<OperationProgress>? progress, IOperationLog log, CancellationToken cancellationToken)
        {
            var encrypted = BackupFileName.IsEncrypted(fileName);
            if (encrypted && passphrase == null)
            {
                throw new RedisRecoveryException("PassphraseRequired", FailureKind.InvalidArgument,
                    $"{source.Location}/{fileName} is encrypted: give its -Passphrase.") { Target = fileName };
            }
            var directory = CreatePrivateTemporaryDirectory();
            try
            {
                var options = new BackupCopyOptions { Mode = encrypted ? BackupCopyMode.Decrypt : BackupCopyMode.AsIs, Passphrase = passphrase };
                var copy = await BackupCopier.CopyAsync(source, fileName, new LocalDirectoryStore(directory), options, progress, log, cancellationToken)
                    .ConfigureAwait(false);
                log.Verbose($"Working on a verified local copy of {source.Location}/{fileName}: {copy.Path}.");
                return new LocalBackupCopy(directory, copy, $"{source.Location}/{fileName}");
            }
            catch
            {
                DeleteDirectory(directory);
                throw;
            }
        }

        public void Dispose() => DeleteDirectory(_directory);

        /// <summary>
        /// A new directory under the temporary path that only its owner may enter, for plaintext backups on their way
        /// somewhere (the temporary path is per user on Windows already).
        /// </summary>
        public static string CreatePrivateTemporaryDirectory()
        {
            var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "redisrecovery-" + Guid.NewGuid().ToString("N"));
#if NET8_0_OR_GREATER
            if (!OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                return directory;
            }
#endif
            Directory.CreateDirectory(directory);
            return directory;
        }

        private static void DeleteDirectory(string directory)
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
