using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage.Encryption;
using RedisRecovery.Backup;
using RedisRecovery.Storage;
using RedisRecovery.Storage.S3;
using RedisRecovery.Tests.Backup;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Storage
{
    /// <summary>
    /// The engine parts together: an encrypted backup goes to S3 and comes back, by our code and by plain gpg; a backup
    /// copied back out of S3 is checked against its sidecar.
    /// </summary>
    [Collection(S3ServerCollection.Name)]
    public sealed class OffsiteCopyTests : S3ServerTest
    {
        private const string Passphrase = "off-site passphrase";
        private readonly string _directory = RedisServerProcess.CreateTempDirectory();

        public OffsiteCopyTests(S3ServerProcess server, ITestOutputHelper output)
            : base(server, output)
        {
        }

        public override void Dispose()
        {
            base.Dispose();
            Directory.Delete(_directory, recursive: true);
        }

        [Fact]
        public async Task EncryptedBackup_UploadedInParts_DecryptsWhileStreamingBack_AndGpgReadsTheDownloadedCopy()
        {
            var s3 = S3;
            var bucket = await s3.NewBucketAsync();
            using var store = s3.Store($"s3://{bucket}/offsite");
            var plaintext = S3TestEnvironment.RandomBytes(7 * 1024 * 1024 + 99, seed: 11);
            var rdb = Path.Combine(_directory, "cache.rdb");
            await File.WriteAllBytesAsync(rdb, plaintext);
            var sealedCopy = rdb + ".gpg";
            var encryption = await OpenPgpFiles.EncryptFileAsync(rdb, sealedCopy, S3TestEnvironment.Secure(Passphrase),
                new OpenPgpEncryptionOptions { KeyDerivationBytes = 1024 }, CancellationToken.None);

            S3UploadResult uploaded;
            await using (var file = File.OpenRead(sealedCopy))
            {
                uploaded = await store.UploadAsync("cache.rdb.gpg", file, null, CancellationToken.None);
            }
            Assert.Equal(2, uploaded.PartCount);
            Assert.Equal(encryption.CiphertextSha256, uploaded.Sha256);

            await using (var remote = await store.OpenReadAsync("cache.rdb.gpg", ReadIntegrity.StoreChecks, CancellationToken.None))
            await using (var decrypting = await OpenPgpDecryptingStream.OpenAsync(remote, S3TestEnvironment.Secure(Passphrase), "s3 copy", false,
                             CancellationToken.None))
            {
                using var restored = new MemoryStream();
                await decrypting.CopyToAsync(restored);
                Assert.Equal(plaintext, restored.ToArray());
            }

            var downloaded = Path.Combine(_directory, "downloaded.rdb.gpg");
            await using (var file = File.Create(downloaded))
            {
                await store.DownloadAsync("cache.rdb.gpg", file, encryption.CiphertextSha256, null, CancellationToken.None);
            }
            using var gpg = new GpgProcess();
            var emergency = Path.Combine(_directory, "emergency.rdb");
            var (exit, errors) = await gpg.RunAsync(Passphrase, "--output", emergency, "--decrypt", downloaded);
            Assert.True(exit == 0, errors);
            Assert.Equal(plaintext, await File.ReadAllBytesAsync(emergency));
        }

        [Fact]
        public async Task EncryptingWhileUploading_NeedsNoTemporaryFile_AndGpgDecryptsTheObject()
        {
            var s3 = S3;
            var bucket = await s3.NewBucketAsync();
            using var store = s3.Store($"s3://{bucket}");
            var plaintext = S3TestEnvironment.RandomBytes(11 * 1024 * 1024 + 5, seed: 12);

            S3UploadResult uploaded;
            using (var ciphertext = OpenPgpEncryptingStream.CreateReader(new ForwardOnlyStream(plaintext), S3TestEnvironment.Secure(Passphrase),
                       new OpenPgpEncryptionOptions { KeyDerivationBytes = 1024 }))
            {
                uploaded = await store.UploadAsync("streamed.rdb.gpg", ciphertext, null, CancellationToken.None);
            }

            Assert.Equal(3, uploaded.PartCount);
            var downloaded = Path.Combine(_directory, "streamed.rdb.gpg");
            await using (var file = File.Create(downloaded))
            {
                await store.DownloadAsync("streamed.rdb.gpg", file, uploaded.Sha256, null, CancellationToken.None);
            }
            using var gpg = new GpgProcess();
            var decrypted = Path.Combine(_directory, "streamed.rdb");
            var (exit, errors) = await gpg.RunAsync(Passphrase, "--output", decrypted, "--decrypt", downloaded);
            Assert.True(exit == 0, errors);
            Assert.Equal(plaintext, await File.ReadAllBytesAsync(decrypted));
        }

        [Fact]
        public async Task EncryptingWhileUploading_FromASourceThatFails_LeavesNothing()
        {
            var s3 = S3;
            var bucket = await s3.NewBucketAsync();
            using var store = s3.Store($"s3://{bucket}");
            using var ciphertext = OpenPgpEncryptingStream.CreateReader(
                new ForwardOnlyStream(S3TestEnvironment.RandomBytes(7 * 1024 * 1024, seed: 13), failAtEnd: true),
                S3TestEnvironment.Secure(Passphrase), new OpenPgpEncryptionOptions { KeyDerivationBytes = 1024 });

            await Assert.ThrowsAsync<IOException>(() => store.UploadAsync("half.rdb.gpg", ciphertext, null, CancellationToken.None));

            Assert.True(await s3.BucketIsEmptyWithoutPendingUploadsAsync(bucket));
        }

        // Copying out of S3 reads with ReadIntegrity.CallerChecks: the store skips its composite checksum and the copier's
        // check against the sidecar is the only hash pass, so it alone must stop damage.
        [Fact]
        public async Task CopyFromS3_OfAnObjectReplacedByDamagedBytesTheServerVouchesFor_IsRefusedAgainstTheSidecar_AndWritesNothing()
        {
            var (remote, fileName, content) = await BackupCopiedToS3Async(seed: 14);
            using var restored = new BackupTestDirectory();
            using (remote)
            {
                var damaged = (byte[])content.Clone();
                damaged[7 * 1024 * 1024] ^= 0x04;
                // Uploaded by the store itself, the damaged object gets parts, composite checksum and part-size metadata that
                // all match its bytes: only the sidecar, written for the original, can tell.
                await remote.PutAsync(fileName, new MemoryStream(damaged), null, CancellationToken.None);
                var vouched = await remote.DownloadAsync(fileName, Stream.Null, null, null, CancellationToken.None);
                Assert.Contains("composite", vouched.VerifiedAgainst);

                var failure = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                    BackupCopier.CopyAsync(remote, fileName, restored.Store, new BackupCopyOptions(), null, NullOperationLog.Instance, CancellationToken.None));

                Assert.Equal("BackupChecksumMismatch", failure.ErrorId);
                Assert.Equal(FailureKind.CorruptData, failure.Kind);
                Assert.Contains(fileName, failure.Message);
                Assert.Empty(restored.FileNames());
            }
        }

        [Fact]
        public async Task CopyFromS3_OfAnIntactMultipartBackup_ArrivesVerified()
        {
            var (remote, fileName, content) = await BackupCopiedToS3Async(seed: 15);
            using var restored = new BackupTestDirectory();
            using (remote)
            {
                var back = await BackupCopier.CopyAsync(remote, fileName, restored.Store, new BackupCopyOptions(), null, NullOperationLog.Instance, CancellationToken.None);

                Assert.True(back.Verified);
                Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(restored.Path, fileName)));
            }
        }

        /// <summary>A backup of three parts with its sidecar, copied to a new bucket by Copy-RedisBackup's engine.</summary>
        private async Task<(S3BackupStore Remote, string FileName, byte[] Content)> BackupCopiedToS3Async(int seed)
        {
            var s3 = S3;
            using var local = new BackupTestDirectory();
            var content = S3TestEnvironment.RandomBytes((int)(2 * S3StoreOptions.MinimumPartSize + 5), seed);
            var fileName = local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-22T05:00"), content);
            var remote = s3.Store($"s3://{await s3.NewBucketAsync()}/nightly");
            await BackupCopier.CopyAsync(local.Store, fileName, remote, new BackupCopyOptions(), null, NullOperationLog.Instance, CancellationToken.None);
            return (remote, fileName, content);
        }
    }
}
