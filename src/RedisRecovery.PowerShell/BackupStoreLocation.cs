using System;
using System.Management.Automation;
using RedisRecovery.Storage;
using RedisRecovery.Storage.S3;

namespace RedisRecovery.PowerShell
{
    /// <summary>
    /// Turns what a user typed for -Path (a directory, or s3://bucket/prefix) into a backup store, the one place that
    /// knows the kinds of stores. An S3 store holds a client: dispose it (it is IDisposable when it needs to be).
    /// </summary>
    internal static class BackupStoreLocation
    {
        public static IBackupStore Open(PSCmdlet cmdlet, string? path, BackupStoreParameters parameters) =>
            S3Location.IsS3Uri(path)
                ? new S3BackupStore(S3Location.Parse(path!), parameters.ToOptions())
                : new LocalDirectoryStore(ResolveFileSystemPath(cmdlet, path));

        /// <summary>The store holding the object at <paramref name="objectPath"/> (a backup's Path), and the object's name in it.</summary>
        public static IBackupStore OpenContaining(PSCmdlet cmdlet, string objectPath, BackupStoreParameters parameters, out string objectName)
        {
            if (S3Location.IsS3Uri(objectPath))
            {
                return new S3BackupStore(S3Location.ParseObject(objectPath, out objectName), parameters.ToOptions());
            }
            var fullPath = ResolveFileSystemPath(cmdlet, objectPath);
            objectName = System.IO.Path.GetFileName(fullPath);
            return new LocalDirectoryStore(System.IO.Path.GetDirectoryName(fullPath) ?? fullPath);
        }

        /// <summary>Releases what a store holds (an S3 client); nothing for a directory.</summary>
        public static void Close(IBackupStore? store) => (store as IDisposable)?.Dispose();

        /// <summary>A full file-system path for a relative, ~ or provider-qualified path; the current location when null.</summary>
        public static string ResolveFileSystemPath(PSCmdlet cmdlet, string? path) =>
            string.IsNullOrEmpty(path)
                ? cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath
                : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
    }
}
