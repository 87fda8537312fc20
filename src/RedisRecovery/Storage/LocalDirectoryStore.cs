using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage
{
    /// <summary>
    /// A backup store that is one local directory (not recursive). Writes are staged under a hidden temporary name
    /// in the same directory, made durable, then renamed into place, so a reader never sees a partial object.
    /// </summary>
    public sealed class LocalDirectoryStore : IBackupStore
    {
        private const int CopyBufferSize = 81920;

        public LocalDirectoryStore(string directory)
        {
            if (string.IsNullOrWhiteSpace(directory))
            {
                throw new RedisRecoveryException("InvalidStoreLocation", FailureKind.InvalidArgument, "A backup directory path is required.");
            }
            Directory = System.IO.Path.GetFullPath(directory);
        }

        /// <summary>The full path of the directory.</summary>
        public string Directory { get; }

        public string Location => Directory;

        public async IAsyncEnumerable<StoredObject> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // Enumerating a directory blocks; leave the caller's thread before doing it.
            await Task.Yield();
            var directory = new DirectoryInfo(Directory);
            if (!directory.Exists)
            {
                throw new RedisRecoveryException("BackupStoreNotFound", FailureKind.NotFound, $"The backup directory '{Directory}' does not exist.")
                {
                    Target = Directory,
                };
            }
            foreach (var file in directory.EnumerateFiles())
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Staged files are not objects until they are renamed into place.
                if (!StagedFile.IsStagingName(file.Name))
                {
                    yield return ToStoredObject(file);
                }
            }
        }

        public Task<StoredObject?> GetAsync(string name, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var file = new FileInfo(PathOf(name));
            return Task.FromResult(file.Exists ? ToStoredObject(file) : null);
        }

        /// <remarks>A file carries no checksum of its own: both <see cref="ReadIntegrity"/> values read it as it is.</remarks>
        public Task<Stream> OpenReadAsync(string name, ReadIntegrity integrity, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = PathOf(name);
            try
            {
                Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
                return Task.FromResult(stream);
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                throw new RedisRecoveryException("BackupObjectNotFound", FailureKind.NotFound, $"'{path}' does not exist.", ex) { Target = path };
            }
        }

        public async Task<StoredObject> PutAsync(string name, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            using var staged = CreateStagedFile(name);
            var buffer = new byte[CopyBufferSize];
            long total = 0;
            int read;
            while ((read = await content.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await staged.Stream.WriteAsync(buffer, 0, read, cancellationToken).ConfigureAwait(false);
                total += read;
                bytesWritten?.Report(total);
            }
            return await staged.CommitAsync(overwrite: true, cancellationToken).ConfigureAwait(false);
        }

        public Task DeleteAsync(string name, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // File.Delete ignores an absent file, as the contract wants.
            File.Delete(PathOf(name));
            return Task.CompletedTask;
        }

        /// <summary>
        /// Opens a new hidden file in the directory for <paramref name="name"/>; the caller writes it, then commits
        /// (durable rename into place) or disposes it (the temporary file is removed). Creates the directory if needed.
        /// </summary>
        public StagedFile CreateStagedFile(string name)
        {
            var finalPath = PathOf(name);
            System.IO.Directory.CreateDirectory(Directory);
            return StagedFile.Create(Directory, name, finalPath);
        }

        /// <summary>The full path an object name maps to; rejects names that would leave the directory.</summary>
        public string PathOf(string name)
        {
            ValidateObjectName(name);
            return System.IO.Path.Combine(Directory, name);
        }

        private static void ValidateObjectName(string name)
        {
            if (string.IsNullOrEmpty(name) || name == "." || name == ".." ||
                name.IndexOfAny(new[] { '/', '\\' }) >= 0 || name.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0 ||
                StagedFile.IsStagingName(name))
            {
                throw new RedisRecoveryException("InvalidObjectName", FailureKind.InvalidArgument,
                    $"'{name}' is not a valid object name: it must be a plain file name inside the store.") { Target = name };
            }
        }

        private StoredObject ToStoredObject(FileInfo file) =>
            new StoredObject(file.Name, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero), file.FullName);
    }
}
