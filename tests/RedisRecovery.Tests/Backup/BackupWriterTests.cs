using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using RedisRecovery.Storage;
using RedisRecovery.Tests.Infrastructure;
using static RedisRecovery.Tests.Backup.BackupTestDirectory;

namespace RedisRecovery.Tests.Backup
{
    public sealed class BackupWriterTests
    {
        private static readonly DateTime Now = Utc("2026-11-22T02:00:07");

        public static IEnumerable<object[]> LoadableRdbFiles => FixtureManifest.Rows(c => c.Kind == "rdb" && c.ExpectValid && c.NativeLoadOk);

        public static IEnumerable<object[]> CorruptRdbFiles => FixtureManifest.Rows(c => c.Kind == "rdb" && c.Expect == "corrupt");

        [Theory]
        [MemberData(nameof(LoadableRdbFiles))]
        public async Task Write_StreamsARealRdb_HashesIt_VerifiesIt_AndDescribesItInTheSidecar(string fixture)
        {
            var expected = FixtureManifest.Get(fixture);
            using var directory = new BackupTestDirectory();
            var progress = new List<long>();

            var backup = await new BackupWriter(directory.Store).WriteAsync(
                new BackupWriteRequest("cache-6379", Now, "127.0.0.1:6379", BackupMethod.Replication, pointInTime: true) { RedisVersion = "7.0.15" },
                async (destination, ct) =>
                {
                    using var source = File.OpenRead(expected.FullPath);
                    await source.CopyToAsync(destination, 4096, ct);
                },
                (staged, ct) => VerifyWithRedisCheckRdb(staged, expected.DbSize ?? new Dictionary<int, long>()),
                new SynchronousProgress<long>(progress.Add),
                CancellationToken.None);

            var fileName = "cache-6379_20261122T020007Z.rdb";
            Assert.Equal(new[] { fileName, fileName + ".json" }, directory.FileNames());
            Assert.Equal(directory.FullPath(fileName), backup.Path);
            Assert.Equal(BackupStatus.Ok, backup.Status);
            Assert.Equal(expected["sha256"], backup.Sha256);
            Assert.Equal(expected["sha256"], Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(backup.Path))).ToLowerInvariant());
            Assert.Equal(new FileInfo(expected.FullPath).Length, backup.SizeBytes);
            Assert.Equal(int.Parse(expected.RdbVersion), backup.RdbVersion);
            Assert.Equal(backup.SizeBytes, progress.LastOrDefault());

            var listed = Assert.Single(await directory.Catalog.ListAsync(null, CancellationToken.None));
            Assert.Equal(BackupStatus.Ok, listed.Status);
            Assert.Equal(backup.Sha256, listed.Sha256);
            Assert.Equal(Now, listed.CreatedUtc);
            Assert.Equal("127.0.0.1:6379", listed.Endpoint);
            Assert.Equal("7.0.15", listed.RedisVersion);
            Assert.Equal((expected.DbSize ?? new Dictionary<int, long>()).Where(pair => pair.Value > 0), listed.KeysPerDatabase!.OrderBy(pair => pair.Key));
        }

        [Theory]
        [MemberData(nameof(CorruptRdbFiles))]
        public async Task Write_WhenVerificationRejectsTheFile_LeavesNothingBehind_AndEarlierBackupsIntact(string fixture)
        {
            using var directory = new BackupTestDirectory();
            var earlier = Snapshot(directory, directory.AddBackup("cache-6379", Utc("2026-11-22T01:00")));

            var error = await Assert.ThrowsAsync<CorruptDataException>(() => new BackupWriter(directory.Store).WriteAsync(
                Request(),
                async (destination, ct) =>
                {
                    using var source = File.OpenRead(FixtureManifest.Get(fixture).FullPath);
                    await source.CopyToAsync(destination, ct);
                },
                (staged, ct) => VerifyWithRedisCheckRdb(staged, new Dictionary<int, long>()),
                null,
                CancellationToken.None));

            Assert.Equal("cache-6379_20261122T020007Z.rdb", error.Source);
            AssertOnly(directory, earlier);
        }

        [Fact]
        public async Task Write_WhenTheSourceFailsMidStream_LeavesNothingBehind_AndEarlierBackupsIntact()
        {
            using var directory = new BackupTestDirectory();
            var earlier = Snapshot(directory, directory.AddBackup("cache-6379", Utc("2026-11-22T01:00")));
            var verified = false;

            var error = await Assert.ThrowsAsync<IOException>(() => new BackupWriter(directory.Store).WriteAsync(
                Request(),
                async (destination, ct) =>
                {
                    await destination.WriteAsync(Encoding.ASCII.GetBytes("REDIS0011 partial payload"), ct);
                    throw new IOException("connection reset by peer");
                },
                (staged, ct) =>
                {
                    verified = true;
                    return Task.FromResult(new RdbContentFacts(11, new Dictionary<int, long>()));
                },
                null,
                CancellationToken.None));

            Assert.Equal("connection reset by peer", error.Message);
            Assert.False(verified);
            AssertOnly(directory, earlier);
        }

        [Fact]
        public async Task Write_CancelledWhileStreaming_LeavesNothingBehind()
        {
            using var directory = new BackupTestDirectory();
            var earlier = Snapshot(directory, directory.AddBackup("cache-6379", Utc("2026-11-22T01:00")));
            using var cancellation = new CancellationTokenSource();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new BackupWriter(directory.Store).WriteAsync(
                Request(),
                async (destination, ct) =>
                {
                    await destination.WriteAsync(new byte[64 * 1024], ct);
                    Assert.Single(Directory.GetFiles(directory.Path, ".*.partial"));
                    cancellation.Cancel();
                    await Task.Delay(Timeout.Infinite, ct);
                },
                (staged, ct) => Task.FromResult(new RdbContentFacts(11, new Dictionary<int, long>())),
                null,
                cancellation.Token));

            AssertOnly(directory, earlier);
        }

        [Fact]
        public async Task Write_CancelledDuringVerification_LeavesNothingBehind()
        {
            using var directory = new BackupTestDirectory();
            using var cancellation = new CancellationTokenSource();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new BackupWriter(directory.Store).WriteAsync(
                Request(),
                (destination, ct) => destination.WriteAsync(new byte[1000], 0, 1000, ct),
                async (staged, ct) =>
                {
                    // The staged file is complete and readable while it is being verified.
                    using (var read = staged.OpenRead())
                    {
                        Assert.Equal(1000, read.Length);
                    }
                    cancellation.Cancel();
                    await Task.Delay(Timeout.Infinite, ct);
                    return new RdbContentFacts(11, new Dictionary<int, long>());
                },
                null,
                cancellation.Token));

            Assert.Empty(directory.FileNames());
        }

        [Fact]
        public async Task Write_UnderANameThatExists_FailsWithConflict_AndLeavesTheExistingBackupUntouched()
        {
            using var directory = new BackupTestDirectory();
            var existing = Snapshot(directory, directory.AddBackup("cache-6379", Now));

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => new BackupWriter(directory.Store).WriteAsync(
                Request(),
                (destination, ct) => destination.WriteAsync(new byte[10], 0, 10, ct),
                (staged, ct) => Task.FromResult(new RdbContentFacts(11, new Dictionary<int, long>())),
                null,
                CancellationToken.None));

            Assert.Equal("BackupExists", error.ErrorId);
            Assert.Equal(FailureKind.Conflict, error.Kind);
            AssertOnly(directory, existing);
        }

        [Fact]
        public async Task Write_CreatesTheDestinationDirectory_AndRecordsALogicalCopyAsNotPointInTime()
        {
            using var directory = new BackupTestDirectory();
            var nested = new LocalDirectoryStore(Path.Combine(directory.Path, "nightly"));

            var backup = await new BackupWriter(nested).WriteAsync(
                new BackupWriteRequest("sessions", Now, "10.0.0.5:6380", BackupMethod.Logical, pointInTime: false),
                (destination, ct) => destination.WriteAsync(new byte[] { 42 }, 0, 1, ct),
                (staged, ct) => Task.FromResult(new RdbContentFacts(10, new Dictionary<int, long> { [0] = 0, [2] = 7 }) { RedisVersion = "6.2.14" }),
                null,
                CancellationToken.None);

            Assert.Equal(Path.Combine(directory.Path, "nightly", "sessions_20261122T020007Z.rdb"), backup.Path);
            Assert.False(backup.PointInTime);
            Assert.Equal(BackupMethod.Logical, backup.Method);
            Assert.Equal("6.2.14", backup.RedisVersion);
            Assert.Equal(new Dictionary<int, long> { [2] = 7 }, backup.KeysPerDatabase);
        }

        private static BackupWriteRequest Request() => new BackupWriteRequest("cache-6379", Now, "127.0.0.1:6379", BackupMethod.Replication, pointInTime: true);

        private static async Task<RdbContentFacts> VerifyWithRedisCheckRdb(StagedBackup staged, IReadOnlyDictionary<int, long> keysPerDatabase)
        {
            var header = new byte[9];
            using (var read = staged.OpenRead())
            {
                await read.ReadExactlyAsync(header);
            }
            using var check = Process.Start(new ProcessStartInfo("redis-check-rdb", staged.StagingPath) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = await check.StandardOutput.ReadToEndAsync();
            await check.WaitForExitAsync();
            if (check.ExitCode != 0)
            {
                throw new CorruptDataException(staged.FileName, 0, "redis-check-rdb rejected the file: " + output.Split('\n').FirstOrDefault(line => line.Contains("error", StringComparison.OrdinalIgnoreCase)));
            }
            return new RdbContentFacts(int.Parse(Encoding.ASCII.GetString(header, 5, 4)), keysPerDatabase);
        }

        private static Dictionary<string, byte[]> Snapshot(BackupTestDirectory directory, string fileName) =>
            new[] { fileName, fileName + ".json" }.ToDictionary(name => name, name => File.ReadAllBytes(directory.FullPath(name)));

        /// <summary>The directory holds exactly these files with these bytes: nothing new, no temporary file left.</summary>
        private static void AssertOnly(BackupTestDirectory directory, Dictionary<string, byte[]> files)
        {
            Assert.Equal(files.Keys.OrderBy(name => name, StringComparer.Ordinal), directory.FileNames());
            foreach (var file in files)
            {
                Assert.Equal(file.Value, File.ReadAllBytes(directory.FullPath(file.Key)));
            }
        }
    }
}
