using System;
using System.IO;
using System.Linq;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using RedisRecovery.Storage;
using RedisRecovery.Storage.Encryption;
using RedisRecovery.Storage.S3;
using RedisRecovery.Tests.Infrastructure;
using RedisRecovery.Tests.Storage;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Backup
{
    /// <summary>Copy-RedisBackup's engine between a real directory and a real S3-compatible server (fauxqs), with real gpg.</summary>
    [Collection(S3ServerCollection.Name)]
    public sealed class BackupCopyTests : S3ServerTest
    {
        private const string Passphrase = "nightly off-site passphrase";
        private static readonly OpenPgpEncryptionOptions CheapKeyDerivation = new() { KeyDerivationBytes = 1024 };
        private readonly BackupTestDirectory _local = new();
        private readonly BackupTestDirectory _restored = new();

        public BackupCopyTests(S3ServerProcess server, ITestOutputHelper output)
            : base(server, output)
        {
        }

        public override void Dispose()
        {
            base.Dispose();
            _local.Dispose();
            _restored.Dispose();
        }

        [Fact]
        public async Task LocalToS3_UploadsFileAndSidecar_Verified_AndTheS3CatalogListsItWithItsStore()
        {
            var content = S3TestEnvironment.RandomBytes(6 * 1024 * 1024 + 17, seed: 3);
            var fileName = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-22T02:00"), content);
            var bucket = await S3.NewBucketAsync();
            using var remote = S3.Store($"s3://{bucket}/nightly");
            var progress = new SynchronousProgress<OperationProgress>();

            var copy = await BackupCopier.CopyAsync(_local.Store, fileName, remote, new BackupCopyOptions(), progress, NullOperationLog.Instance, CancellationToken.None);

            Assert.True(copy.Verified);
            Assert.Equal($"s3://{bucket}/nightly/{fileName}", copy.Path);
            Assert.Equal(Server.EndpointUrl.ToString(), copy.EndpointUrl);
            Assert.Equal("us-east-1", copy.Region);
            Assert.Equal(content.Length, progress.Reports.Last().Completed);
            var listed = Assert.Single(await new BackupCatalog(remote).ListAsync(null, CancellationToken.None));
            Assert.Equal(BackupStatus.Ok, listed.Status);
            Assert.Equal((await _local.Catalog.GetAsync(fileName, CancellationToken.None))!.Sha256, listed.Sha256);
            Assert.Null(listed.Verified);
            Assert.Equal(copy.EndpointUrl, listed.EndpointUrl);
        }

        [Fact]
        public async Task Encrypted_UploadIsAGpgFile_ListedEncrypted_AndDecryptsBackToTheRdb()
        {
            var rdb = await File.ReadAllBytesAsync(Path.Combine(FixtureManifest.Directory, "public/HDT3213__rdb/easily_compressible_string_key.rdb"));
            var fileName = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-22T03:00"), rdb);
            var bucket = await S3.NewBucketAsync();
            using var remote = S3.Store($"s3://{bucket}/offsite");

            var copy = await BackupCopier.CopyAsync(_local.Store, fileName, remote, Encrypting(), null, NullOperationLog.Instance, CancellationToken.None);

            Assert.True(copy.Verified);
            Assert.True(copy.Encrypted);
            Assert.Equal(fileName + ".gpg", copy.FileName);
            var sidecar = await BackupSidecar.ReadAsync(remote, copy.FileName + ".json", CancellationToken.None);
            Assert.True(sidecar.Encrypted);
            Assert.Equal(copy.Sha256, sidecar.CiphertextSha256);
            Assert.Equal((await _local.Catalog.GetAsync(fileName, CancellationToken.None))!.Sha256, sidecar.PlaintextSha256);
            Assert.True(Assert.Single(await new BackupCatalog(remote).ListAsync(null, CancellationToken.None)).Encrypted);

            // The emergency path: plain gpg on the downloaded object gives the RDB, which redis-check-rdb accepts.
            var downloaded = Path.Combine(_restored.Path, "download.gpg");
            await using (var file = File.Create(downloaded))
            {
                await remote.DownloadAsync(copy.FileName, file, copy.Sha256, null, CancellationToken.None);
            }
            using var gpg = new GpgProcess();
            var plain = Path.Combine(_restored.Path, "emergency.rdb");
            var (exit, errors) = await gpg.RunAsync(Passphrase, "--output", plain, "--decrypt", downloaded);
            Assert.True(exit == 0, errors);
            Assert.Equal(rdb, await File.ReadAllBytesAsync(plain));
            using (var check = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("redis-check-rdb", plain) { RedirectStandardOutput = true })!)
            {
                var report = await check.StandardOutput.ReadToEndAsync();
                await check.WaitForExitAsync();
                Assert.True(check.ExitCode == 0, report);
            }

            var back = await BackupCopier.CopyAsync(remote, copy.FileName, _restored.Store, Decrypting(Passphrase), null, NullOperationLog.Instance, CancellationToken.None);
            Assert.True(back.Verified);
            Assert.False(back.Encrypted);
            Assert.Equal(fileName, back.FileName);
            Assert.Equal(rdb, await File.ReadAllBytesAsync(_restored.FullPath(fileName)));
        }

        [Fact]
        public async Task EncryptingToALocalDirectory_AndDecryptingWithAWrongPassphrase_WritesNothing()
        {
            var fileName = _local.AddBackup("orders-6380", BackupTestDirectory.Utc("2026-11-21T23:00"), S3TestEnvironment.RandomBytes(300_000, seed: 8));
            using var vault = new BackupTestDirectory();
            var sealedCopy = await BackupCopier.CopyAsync(_local.Store, fileName, vault.Store, Encrypting(), null, NullOperationLog.Instance, CancellationToken.None);
            Assert.Equal(new[] { fileName + ".gpg", fileName + ".gpg.json" }, vault.FileNames());

            var failure = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                BackupCopier.CopyAsync(vault.Store, sealedCopy.FileName, _restored.Store, Decrypting("not the passphrase"), null, NullOperationLog.Instance, CancellationToken.None));

            Assert.Equal("OpenPgpWrongPassphrase", failure.ErrorId);
            Assert.DoesNotContain("not the passphrase", failure.ToString());
            Assert.Empty(_restored.FileNames());
        }

        [Fact]
        public async Task DamagedSource_IsRefused_AndLeavesNothingOnS3()
        {
            var content = S3TestEnvironment.RandomBytes(5 * 1024 * 1024 * 2 + 5, seed: 4);
            var fileName = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-22T04:00"), content);
            content[content.Length - 3] ^= 0x20;
            await File.WriteAllBytesAsync(_local.FullPath(fileName), content);
            var bucket = await S3.NewBucketAsync();
            using var remote = S3.Store($"s3://{bucket}/nightly");

            var failure = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                BackupCopier.CopyAsync(_local.Store, fileName, remote, Encrypting(), null, NullOperationLog.Instance, CancellationToken.None));

            Assert.Equal("BackupChecksumMismatch", failure.ErrorId);
            Assert.True(await S3.BucketIsEmptyWithoutPendingUploadsAsync(bucket), "the multipart upload of the damaged backup was left behind");
        }

        [Fact]
        public async Task CopyingAgain_KeepsTheCopyThatIsThere_AndRetentionRemovesFromS3()
        {
            var bucket = await S3.NewBucketAsync();
            using var remote = S3.Store($"s3://{bucket}");
            var older = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-20T02:00"));
            var newer = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-21T02:00"));
            foreach (var fileName in new[] { older, newer })
            {
                await BackupCopier.CopyAsync(_local.Store, fileName, remote, Encrypting(), null, NullOperationLog.Instance, CancellationToken.None);
            }
            var log = new RecordingLog();

            var again = await BackupCopier.CopyAsync(_local.Store, newer, remote, Encrypting(), null, log, CancellationToken.None);

            Assert.Null(again.Verified);
            Assert.Contains(log.Lines, line => line.Contains("already holds this backup"));
            var catalog = new BackupCatalog(remote);
            var listed = await catalog.ListAsync(null, CancellationToken.None);
            Assert.Equal(2, listed.Count);
            var plan = RetentionPlanner.Plan(listed, new RetentionPolicy(0, 0, 0, 0), DateTime.UtcNow);
            foreach (var decision in plan.Decisions.Where(d => d.Action == RetentionAction.Delete))
            {
                await catalog.RemoveAsync(decision.Backup.FileName, CancellationToken.None);
            }
            Assert.Equal(BackupFileName.Encrypted(newer), Assert.Single(await catalog.ListAsync(null, CancellationToken.None)).FileName);
        }

        [Fact]
        public async Task EncryptingAnEncryptedBackup_OrDecryptingAPlainOne_IsMisuse()
        {
            var fileName = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-22T05:00"));
            var misuse = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                BackupCopier.CopyAsync(_local.Store, fileName, _restored.Store, Decrypting(Passphrase), null, NullOperationLog.Instance, CancellationToken.None));
            Assert.Equal("BackupNotEncrypted", misuse.ErrorId);
            var sealedCopy = await BackupCopier.CopyAsync(_local.Store, fileName, _local.Store, Encrypting(), null, NullOperationLog.Instance, CancellationToken.None);
            misuse = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                BackupCopier.CopyAsync(_local.Store, sealedCopy.FileName, _restored.Store, Encrypting(), null, NullOperationLog.Instance, CancellationToken.None));
            Assert.Equal("BackupAlreadyEncrypted", misuse.ErrorId);
            Assert.Empty(_restored.FileNames());
        }

        [Fact]
        public async Task RestoreFromS3_OnANewMachine_UsesAVerifiedDecryptedLocalCopy_ThenRemovesIt()
        {
            var fixture = FixtureManifest.Cases.First(row => row.Kind == "rdb" && row.ExpectValid && row.NativeLoadOk && row.Expires == 0 && row.DbSize?.Count > 0);
            var rdb = await File.ReadAllBytesAsync(fixture.FullPath);
            var fileName = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-22T06:00"), rdb);
            var bucket = await S3.NewBucketAsync();
            using var remote = S3.Store($"s3://{bucket}/prod");
            var uploaded = await BackupCopier.CopyAsync(_local.Store, fileName, remote, Encrypting(), null, NullOperationLog.Instance, CancellationToken.None);

            string localPath;
            await using var target = await Restore.RestoreTestKit.StartTargetAsync(Output);
            using (var local = await LocalBackupCopy.CreateAsync(remote, uploaded.FileName, S3TestEnvironment.Secure(Passphrase), null, NullOperationLog.Instance,
                       CancellationToken.None))
            {
                localPath = local.Path;
                Assert.True(local.Backup.Verified);
                Assert.Equal(rdb, await File.ReadAllBytesAsync(localPath));
                var result = await RedisRecovery.Restore.RedisRestorer.RestoreAsync(Restore.RestoreTestKit.Options(localPath, target));
                Assert.True(result.Completed, Restore.RestoreTestKit.Describe(result));
            }

            Assert.Equal(Restore.RestoreTestKit.Describe(fixture.DbSize!), Restore.RestoreTestKit.Describe(await Restore.RestoreTestKit.KeyspaceAsync(target)));
            Assert.False(Directory.Exists(Path.GetDirectoryName(localPath)), "the decrypted copy was left in the temporary directory");
        }

        [Fact]
        public async Task LocalCopyOfAnEncryptedBackup_WithoutPassphrase_AsksForIt()
        {
            var fileName = _local.AddBackup("cache-6379", BackupTestDirectory.Utc("2026-11-22T07:00"));
            var sealedCopy = await BackupCopier.CopyAsync(_local.Store, fileName, _local.Store, Encrypting(), null, NullOperationLog.Instance, CancellationToken.None);
            var failure = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                LocalBackupCopy.CreateAsync(_local.Store, sealedCopy.FileName, null, null, NullOperationLog.Instance, CancellationToken.None));
            Assert.Equal("PassphraseRequired", failure.ErrorId);
            Assert.True(LocalBackupCopy.IsNeededFor(sealedCopy.Path));
            Assert.False(LocalBackupCopy.IsNeededFor(_local.FullPath(fileName)));
        }

        [Theory]
        [InlineData("s3://bucket/file.rdb", "s3://bucket", "file.rdb")]
        [InlineData("s3://my-bucket/a/b/cache_20261122T020000Z.rdb.gpg", "s3://my-bucket/a/b", "cache_20261122T020000Z.rdb.gpg")]
        public void ParseObject_SplitsStoreAndObjectName(string uri, string store, string name)
        {
            Assert.Equal(store, S3Location.ParseObject(uri, out var objectName).ToString());
            Assert.Equal(name, objectName);
        }

        [Theory]
        [InlineData("s3://bucket")]
        [InlineData("s3://bucket/prefix/")]
        [InlineData("s3://Bad_Bucket/file.rdb")]
        public void ParseObject_RefusesWhatNamesNoObject(string uri) =>
            Assert.Equal("S3InvalidLocation", Assert.Throws<RedisRecoveryException>(() => S3Location.ParseObject(uri, out _)).ErrorId);

        private static BackupCopyOptions Encrypting() =>
            new() { Mode = BackupCopyMode.Encrypt, Passphrase = S3TestEnvironment.Secure(Passphrase), Encryption = CheapKeyDerivation };

        private static BackupCopyOptions Decrypting(string passphrase) =>
            new() { Mode = BackupCopyMode.Decrypt, Passphrase = S3TestEnvironment.Secure(passphrase) };

        private sealed class SynchronousProgress<T> : IProgress<T>
        {
            public System.Collections.Generic.List<T> Reports { get; } = new();

            public void Report(T value) => Reports.Add(value);
        }

        private sealed class RecordingLog : IOperationLog
        {
            public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

            public void Verbose(string message) => Lines.Enqueue(message);

            public void Warning(string message) => Lines.Enqueue(message);
        }
    }
}
