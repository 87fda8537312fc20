using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using RedisRecovery.Storage;
using RedisRecovery.Tests.Backup;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Storage
{
    /// <summary>
    /// Copying a backup out of S3 reads it with <see cref="ReadIntegrity.CallerChecks"/>: the store skips its composite
    /// checksum and the copier's check against the sidecar is the only hash pass. Damage must still stop the copy.
    /// </summary>
    [Collection(S3ServerCollection.Name)]
    public sealed class S3CopySourceIntegrityTests : IDisposable
    {
        private const int MiB = 1024 * 1024;
        private readonly S3ServerProcess _server;
        private readonly ITestOutputHelper _output;
        private readonly int _logMark;
        private readonly S3TestEnvironment _s3;
        private readonly BackupTestDirectory _local = new();
        private readonly BackupTestDirectory _restored = new();

        public S3CopySourceIntegrityTests(S3ServerProcess server, ITestOutputHelper output)
        {
            _server = server;
            _output = output;
            _logMark = server.LogMark;
            _s3 = new S3TestEnvironment(server);
        }

        public void Dispose()
        {
            _server.WriteLogSince(_logMark, _output);
            _local.Dispose();
            _restored.Dispose();
        }

        [Fact]
        public async Task CopyFromS3_OfAnObjectReplacedByDamagedBytesTheServerVouchesFor_IsRefusedAgainstTheSidecar_AndWritesNothing()
        {
            var content = S3TestEnvironment.RandomBytes(2 * 5 * MiB + 5, seed: 11);
            var fileName = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-22T05:00"), content);
            var bucket = await _s3.NewBucketAsync();
            using var remote = _s3.Store($"s3://{bucket}/nightly");
            await BackupCopier.CopyAsync(_local.Store, fileName, remote, new BackupCopyOptions(), null, NullOperationLog.Instance, CancellationToken.None);
            var damaged = (byte[])content.Clone();
            damaged[7 * MiB] ^= 0x04;
            // Uploaded by the store itself, the damaged object gets parts, composite checksum and part-size metadata that
            // all match its bytes: only the sidecar, written for the original, can tell.
            await remote.PutAsync(fileName, new MemoryStream(damaged), null, CancellationToken.None);
            using (var storeChecked = new MemoryStream())
            {
                var vouched = await remote.DownloadAsync(fileName, storeChecked, null, null, CancellationToken.None);
                Assert.Contains("composite", vouched.VerifiedAgainst);
            }

            var failure = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                BackupCopier.CopyAsync(remote, fileName, _restored.Store, new BackupCopyOptions(), null, NullOperationLog.Instance, CancellationToken.None));

            Assert.Equal("BackupChecksumMismatch", failure.ErrorId);
            Assert.Equal(FailureKind.CorruptData, failure.Kind);
            Assert.Contains(fileName, failure.Message);
            Assert.Empty(_restored.FileNames());
        }

        [Fact]
        public async Task CopyFromS3_OfAnIntactMultipartBackup_ArrivesVerified()
        {
            var content = S3TestEnvironment.RandomBytes(2 * 5 * MiB + 5, seed: 12);
            var fileName = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-22T06:00"), content);
            var bucket = await _s3.NewBucketAsync();
            using var remote = _s3.Store($"s3://{bucket}/nightly");
            await BackupCopier.CopyAsync(_local.Store, fileName, remote, new BackupCopyOptions(), null, NullOperationLog.Instance, CancellationToken.None);

            var back = await BackupCopier.CopyAsync(remote, fileName, _restored.Store, new BackupCopyOptions(), null, NullOperationLog.Instance, CancellationToken.None);

            Assert.True(back.Verified);
            Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(_restored.Path, fileName)));
        }
    }
}
