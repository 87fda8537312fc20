using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage;

namespace RedisRecovery.Backup
{
    /// <summary>What a backup is a copy of and how it was taken: everything the sidecar records besides the content facts.</summary>
    public sealed class BackupWriteRequest
    {
        /// <param name="name">The series; null for the default, host-port of <paramref name="endpoint"/>.</param>
        /// <param name="createdUtc">The time the backup is named after, to the second.</param>
        /// <param name="endpoint">The source, in any form (a URI with credentials included): only host:port is kept.</param>
        /// <param name="method">The method actually used.</param>
        /// <param name="pointInTime">False for a logical copy.</param>
        public BackupWriteRequest(string? name, DateTime createdUtc, string endpoint, BackupMethod method, bool pointInTime)
        {
            Endpoint = BackupEndpoint.ToHostPort(endpoint);
            Name = name ?? BackupFileName.DefaultName(Endpoint);
            BackupFileName.ValidateName(Name);
            var utc = createdUtc.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(createdUtc, DateTimeKind.Utc) : createdUtc.ToUniversalTime();
            CreatedUtc = new DateTime(utc.Ticks - utc.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
            Method = method;
            PointInTime = pointInTime;
        }

        public string Name { get; }

        public DateTime CreatedUtc { get; }

        /// <summary>host:port.</summary>
        public string Endpoint { get; }

        public BackupMethod Method { get; }

        public bool PointInTime { get; }

        /// <summary>The server's version (INFO server) when known; otherwise the RDB's own redis-ver is used.</summary>
        public string? RedisVersion { get; init; }

        /// <summary>Why the method was used (a fallback's reason); carried to the result, not to the sidecar.</summary>
        public string? MethodDetail { get; init; }

        public string FileName => BackupFileName.For(Name, CreatedUtc);
    }

    /// <summary>What verifying (fully parsing) the staged RDB found; recorded in the sidecar.</summary>
    public sealed class RdbContentFacts
    {
        public RdbContentFacts(int rdbVersion, IReadOnlyDictionary<int, long> keysPerDatabase)
        {
            RdbVersion = rdbVersion;
            KeysPerDatabase = keysPerDatabase;
        }

        public int RdbVersion { get; }

        /// <summary>Non-empty databases only.</summary>
        public IReadOnlyDictionary<int, long> KeysPerDatabase { get; }

        /// <summary>The redis-ver auxiliary field of the RDB, when present.</summary>
        public string? RedisVersion { get; init; }
    }

    /// <summary>The complete, fsynced but not yet visible backup file handed to verification.</summary>
    public sealed class StagedBackup
    {
        internal StagedBackup(string fileName, string stagingPath, long sizeBytes, string sha256)
        {
            FileName = fileName;
            StagingPath = stagingPath;
            SizeBytes = sizeBytes;
            Sha256 = sha256;
        }

        /// <summary>The name it will have; use it in error messages, the staging path is temporary.</summary>
        public string FileName { get; }

        public string StagingPath { get; }

        public long SizeBytes { get; }

        public string Sha256 { get; }

        /// <summary>A new read stream over the staged bytes; the caller disposes it.</summary>
        public Stream OpenRead() =>
            new FileStream(StagingPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
    }

    /// <summary>
    /// Writes one backup into a directory so that it either appears whole, verified and described, or not at all:
    /// the bytes stream into a hidden temporary file (SHA-256 computed on the way), are fsynced and verified, the
    /// sidecar is stored, and only then is the file renamed to its final name. On any failure or cancellation the
    /// temporary file is removed and earlier backups are untouched.
    /// </summary>
    public sealed class BackupWriter
    {
        private static readonly string CreatedBy = "RedisRecovery " + typeof(BackupWriter).Assembly.GetName().Version?.ToString(3);

        public BackupWriter(LocalDirectoryStore destination)
        {
            Destination = destination;
        }

        public LocalDirectoryStore Destination { get; }

        /// <param name="request">Series, time, source and method.</param>
        /// <param name="writeContent">Streams the RDB bytes into the given stream (do not dispose it).</param>
        /// <param name="verify">Checks the staged file (a full RDB parse) and returns what it holds; throw to reject it.</param>
        /// <param name="bytesWritten">Running byte count while <paramref name="writeContent"/> writes.</param>
        /// <returns>The new backup, status Ok.</returns>
        public async Task<RdbBackup> WriteAsync(
            BackupWriteRequest request,
            Func<Stream, CancellationToken, Task> writeContent,
            Func<StagedBackup, CancellationToken, Task<RdbContentFacts>> verify,
            IProgress<long>? bytesWritten,
            CancellationToken cancellationToken)
        {
            var fileName = request.FileName;
            var sidecarName = BackupFileName.SidecarFor(fileName);
            if (await Destination.GetAsync(fileName, cancellationToken).ConfigureAwait(false) != null)
            {
                throw new RedisRecoveryException("BackupExists", FailureKind.Conflict,
                    $"A backup named '{fileName}' already exists in '{Destination.Location}'; it was left untouched.") { Target = Destination.PathOf(fileName) };
            }

            using var staged = Destination.CreateStagedFile(fileName);
            string sha256;
            long size;
            using (var hashing = new HashingWriteStream(staged.Stream, bytesWritten))
            {
                await writeContent(hashing, cancellationToken).ConfigureAwait(false);
                sha256 = hashing.FinishHash();
                size = hashing.BytesWritten;
            }
            cancellationToken.ThrowIfCancellationRequested();
            await staged.FlushToDiskAsync(cancellationToken).ConfigureAwait(false);
            var facts = await verify(new StagedBackup(fileName, staged.StagingPath, size, sha256), cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();

            var sidecar = new BackupSidecar
            {
                Name = request.Name,
                Endpoint = request.Endpoint,
                Method = request.Method,
                CreatedUtc = request.CreatedUtc,
                SizeBytes = size,
                Sha256 = sha256,
                RdbVersion = facts.RdbVersion,
                RedisVersion = request.RedisVersion ?? facts.RedisVersion,
                KeysPerDatabase = facts.KeysPerDatabase.Where(pair => pair.Value > 0).OrderBy(pair => pair.Key).ToDictionary(pair => pair.Key, pair => pair.Value),
                PointInTime = request.PointInTime,
                CreatedBy = CreatedBy,
            };
            // The sidecar goes first: a crash in between leaves a sidecar without file (MissingFile, harmless and
            // cleaned up by retention), never a backup file that nothing describes.
            await sidecar.WriteAsync(Destination, sidecarName, cancellationToken).ConfigureAwait(false);
            StoredObject committed;
            try
            {
                committed = await staged.CommitAsync(overwrite: false, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await Destination.DeleteAsync(sidecarName, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
            var location = new BackupLocation(Destination.Location, fileName, committed.FullLocation, Destination.PathOf(sidecarName));
            return RdbBackup.FromSidecar(sidecar, location, BackupStatus.Ok, null, request.MethodDetail);
        }
    }
}
