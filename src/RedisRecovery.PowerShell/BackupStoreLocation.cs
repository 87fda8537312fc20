using System;
using System.Management.Automation;
using RedisRecovery.Storage;

namespace RedisRecovery.PowerShell
{
    /// <summary>Turns what a user typed for -Path into a backup store, the one place that knows the kinds of stores.</summary>
    internal static class BackupStoreLocation
    {
        public static IBackupStore Open(PSCmdlet cmdlet, string? path)
        {
            RejectRemote(path);
            return new LocalDirectoryStore(ResolveFileSystemPath(cmdlet, path));
        }

        /// <summary>The store holding the object at <paramref name="objectPath"/> (a backup's Path), and the object's name in it.</summary>
        public static IBackupStore OpenContaining(PSCmdlet cmdlet, string objectPath, out string objectName)
        {
            RejectRemote(objectPath);
            var fullPath = ResolveFileSystemPath(cmdlet, objectPath);
            objectName = System.IO.Path.GetFileName(fullPath);
            return new LocalDirectoryStore(System.IO.Path.GetDirectoryName(fullPath) ?? fullPath);
        }

        /// <summary>A full file-system path for a relative, ~ or provider-qualified path; the current location when null.</summary>
        public static string ResolveFileSystemPath(PSCmdlet cmdlet, string? path) =>
            string.IsNullOrEmpty(path)
                ? cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath
                : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

        private static void RejectRemote(string? path)
        {
            if (path != null && path.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
            {
                throw new RedisRecoveryException("StoreNotSupported", FailureKind.NotSupported,
                    "S3 locations are not supported by this command yet; copy the backups to a local directory first.") { Target = path };
            }
        }
    }
}
