using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage
{
    /// <summary>
    /// A file being written under a hidden temporary name beside its final name. <see cref="CommitAsync"/> makes it
    /// durable and renames it into place; disposing it uncommitted (failure, cancellation) removes it.
    /// </summary>
    public sealed class StagedFile : IDisposable
    {
        private const string StagingPrefix = ".";
        private const string StagingSuffix = ".partial";
        private bool _committed;

        private StagedFile(string name, string stagingPath, string finalPath, FileStream stream)
        {
            Name = name;
            StagingPath = stagingPath;
            FinalPath = finalPath;
            Stream = stream;
        }

        /// <summary>The object name it will have once committed.</summary>
        public string Name { get; }

        public string StagingPath { get; }

        public string FinalPath { get; }

        /// <summary>The open file to write; readable elsewhere through <see cref="StagingPath"/> (FileShare.Read).</summary>
        public FileStream Stream { get; }

        internal static bool IsStagingName(string fileName) =>
            fileName.StartsWith(StagingPrefix, StringComparison.Ordinal) && fileName.EndsWith(StagingSuffix, StringComparison.Ordinal);

        internal static StagedFile Create(string directory, string name, string finalPath)
        {
            var stagingPath = Path.Combine(directory, $"{StagingPrefix}{name}.{Guid.NewGuid():N}{StagingSuffix}");
            var stream = new FileStream(stagingPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 81920, FileOptions.Asynchronous);
            return new StagedFile(name, stagingPath, finalPath, stream);
        }

        /// <summary>Pushes everything written so far to the disk (fsync), so it survives a crash.</summary>
        public async Task FlushToDiskAsync(CancellationToken cancellationToken)
        {
            await Stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            Stream.Flush(flushToDisk: true);
        }

        /// <summary>
        /// Makes the bytes durable, renames the file to its final name and makes the rename durable. Without <paramref name="overwrite"/> an
        /// existing file under that name is left untouched and the commit fails with a Conflict error.
        /// </summary>
        public async Task<StoredObject> CommitAsync(bool overwrite, CancellationToken cancellationToken)
        {
            await FlushToDiskAsync(cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            var size = Stream.Length;
            Stream.Dispose();
            try
            {
                MoveIntoPlace(overwrite);
            }
            catch (IOException ex) when (!overwrite && File.Exists(FinalPath))
            {
                throw new RedisRecoveryException("BackupObjectExists", FailureKind.Conflict, $"'{FinalPath}' already exists; it was left untouched.", ex)
                {
                    Target = FinalPath,
                };
            }
            _committed = true;
            DirectoryDurability.TryFlush(Path.GetDirectoryName(FinalPath)!);
            return new StoredObject(Name, size, new DateTimeOffset(File.GetLastWriteTimeUtc(FinalPath), TimeSpan.Zero), FinalPath);
        }

        public void Dispose()
        {
            Stream.Dispose();
            if (!_committed)
            {
                try
                {
                    File.Delete(StagingPath);
                }
                catch (IOException)
                {
                    // Already failing; a leftover hidden .partial file is ignored by every listing.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        private void MoveIntoPlace(bool overwrite)
        {
#if NET8_0_OR_GREATER
            File.Move(StagingPath, FinalPath, overwrite);
#else
            if (overwrite && File.Exists(FinalPath))
            {
                File.Replace(StagingPath, FinalPath, destinationBackupFileName: null);
            }
            else
            {
                File.Move(StagingPath, FinalPath);
            }
#endif
        }
    }
}
