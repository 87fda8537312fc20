using System;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;
using static RedisRecovery.Tests.Backup.BackupTestDirectory;

namespace RedisRecovery.Tests.Backup
{
    /// <summary>Test-RedisBackup's engine over real backups taken from a real server, good and tampered with.</summary>
    public sealed class BackupVerifierTests : IAsyncLifetime
    {
        private static readonly DateTime TakenAt = Utc("2026-11-22T03:00:00");
        private readonly ITestOutputHelper _output;
        private readonly BackupTestDirectory _directory = new();
        private RedisServerProcess _server = null!;
        private RdbBackup _backup = null!;

        public BackupVerifierTests(ITestOutputHelper output) => _output = output;

        public async Task InitializeAsync()
        {
            _server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await SnapshotDataset.FillAsync(_server);
            await using (var connection = await RedisConnection.ConnectAsync(SnapshotDataset.Options(_server, 3)))
            {
                // Expired but not yet evicted: the snapshot carries them, a server loading it drops them.
                await connection.ExecuteAsync("DEBUG", "SET-ACTIVE-EXPIRE", 0);
                await connection.ExecuteAsync("SET", "expired-1", "x", "PX", 1);
                await connection.ExecuteAsync("SET", "expired-2", "y", "PX", 1);
                await Task.Delay(50);
            }
            _backup = await SnapshotBackup.RunAsync(new SnapshotRequest(SnapshotDataset.Options(_server), _directory.Path)
            {
                Method = SnapshotMethod.Replication,
                UtcNow = () => TakenAt,
            });
        }

        public Task DisposeAsync()
        {
            _server.Dispose();
            _directory.Dispose();
            return Task.CompletedTask;
        }

        [Fact]
        public async Task Verify_GoodBackup_PassesEveryCheck_IncludingARealRestoreThatDropsExpiredKeys()
        {
            var result = await BackupVerifier.VerifyAsync(_backup, new BackupVerificationOptions { RedisServerPath = "redis-server" });

            Assert.True(result.Passed, string.Join("; ", result.Checks));
            Assert.Equal(new[] { BackupCheck.Sidecar, BackupCheck.Sha256, BackupCheck.RdbParse, BackupCheck.KeyCounts, BackupCheck.Restore },
                result.Checks.Select(check => check.Name));
            Assert.All(result.Checks, check => Assert.Equal(BackupCheckOutcome.Passed, check.Outcome));
            Assert.Contains($"db3={_backup.KeysPerDatabase![3] - 2}", result[BackupCheck.Restore]!.Detail);
            Assert.Equal("", result.FailedChecks);
        }

        [Fact]
        public async Task Verify_BackupFromItsPath_FindsTheSidecarBesideIt()
        {
            var described = await BackupVerifier.DescribeAsync(_backup.Path, CancellationToken.None);
            Assert.Equal(_backup.Sha256, described.Sha256);
            Assert.True((await BackupVerifier.VerifyAsync(described)).Passed);
        }

        [Fact]
        public async Task Verify_OneChangedByte_FailsTheSha256Check()
        {
            var bytes = File.ReadAllBytes(_backup.Path);
            bytes[bytes.Length / 2] ^= 0x01;
            File.WriteAllBytes(_backup.Path, bytes);

            var result = await BackupVerifier.VerifyAsync(await BackupVerifier.DescribeAsync(_backup.Path, CancellationToken.None));

            Assert.False(result.Passed);
            Assert.Equal(BackupCheckOutcome.Failed, result[BackupCheck.Sha256]!.Outcome);
            Assert.Contains(_backup.Sha256!, result[BackupCheck.Sha256]!.Detail);
            Assert.Equal(BackupCheckOutcome.Passed, result[BackupCheck.Sidecar]!.Outcome);
        }

        [Fact]
        public async Task Verify_SidecarCountsEdited_FailsTheKeyCountCheckOnly()
        {
            var sidecar = JsonNode.Parse(File.ReadAllText(_backup.SidecarPath))!;
            sidecar["keysPerDatabase"]!["3"] = 1;
            File.WriteAllText(_backup.SidecarPath, sidecar.ToJsonString());

            var result = await BackupVerifier.VerifyAsync(await BackupVerifier.DescribeAsync(_backup.Path, CancellationToken.None));

            Assert.False(result.Passed);
            Assert.Equal("KeyCounts", result.FailedChecks);
            Assert.Contains($"db3 1 vs {_backup.KeysPerDatabase![3]}", result[BackupCheck.KeyCounts]!.Detail);
        }

        [Fact]
        public async Task Verify_TruncatedFile_FailsSidecarSizeShaAndParse_AndSkipsTheRestore()
        {
            var bytes = File.ReadAllBytes(_backup.Path);
            File.WriteAllBytes(_backup.Path, bytes.AsSpan(0, bytes.Length - 100).ToArray());

            var result = await BackupVerifier.VerifyAsync(await BackupVerifier.DescribeAsync(_backup.Path, CancellationToken.None),
                new BackupVerificationOptions { RedisServerPath = "redis-server" });

            Assert.Equal("Sidecar, Sha256, RdbParse", result.FailedChecks);
            Assert.Contains("SizeMismatch", result[BackupCheck.Sidecar]!.Detail);
            Assert.Contains("offset", result[BackupCheck.RdbParse]!.Detail);
            Assert.Equal(BackupCheckOutcome.Skipped, result[BackupCheck.Restore]!.Outcome);
        }

        [Fact]
        public async Task Verify_MissingSidecar_FailsTheSidecarCheck_AndSkipsWhatNeedsIt()
        {
            File.Delete(_backup.SidecarPath);

            var result = await BackupVerifier.VerifyAsync(await BackupVerifier.DescribeAsync(_backup.Path, CancellationToken.None));

            Assert.Equal("Sidecar", result.FailedChecks);
            Assert.Equal(BackupCheckOutcome.Skipped, result[BackupCheck.Sha256]!.Outcome);
            Assert.Equal(BackupCheckOutcome.Skipped, result[BackupCheck.KeyCounts]!.Outcome);
            Assert.Equal(BackupCheckOutcome.Passed, result[BackupCheck.RdbParse]!.Outcome);
        }

        [Theory]
        [InlineData(59, true)]
        [InlineData(61, false)]
        public async Task Verify_WithMaxAge_FailsOnlyWhenTheBackupIsOlder(int minutesLater, bool passes)
        {
            var result = await BackupVerifier.VerifyAsync(_backup, new BackupVerificationOptions
            {
                MaxAge = TimeSpan.FromHours(1),
                UtcNow = () => TakenAt.AddMinutes(minutesLater),
            });

            Assert.Equal(passes, result.Passed);
            Assert.Equal(passes ? BackupCheckOutcome.Passed : BackupCheckOutcome.Failed, result[BackupCheck.Age]!.Outcome);
            Assert.Equal(TimeSpan.FromMinutes(minutesLater), result.Age);
        }

        [Fact]
        public async Task Verify_ABackupTheServerCannotLoad_FailsTheRestoreCheckWithTheServersReason()
        {
            // An RDB newer than the local redis-server reads: sidecar, hash and parse are fine, only the restore says no.
            var fixture = FixtureManifest.Cases.First(c => c.Kind == "rdb" && c.ExpectValid && c.NativeLoad == "too-new");
            var backup = await new BackupWriter(_directory.Store).WriteAsync(
                new BackupWriteRequest("too-new", TakenAt, "127.0.0.1:6379", BackupMethod.Bgsave, pointInTime: true),
                async (destination, ct) =>
                {
                    using var source = File.OpenRead(fixture.FullPath);
                    await source.CopyToAsync(destination, ct);
                },
                async (staged, ct) =>
                {
                    var check = await RedisRecovery.Rdb.RdbFileChecker.CheckFileAsync(staged.StagingPath, cancellationToken: ct);
                    return new RdbContentFacts(check.RdbVersion!.Value, check.KeysPerDatabase);
                },
                null,
                CancellationToken.None);

            var result = await BackupVerifier.VerifyAsync(backup, new BackupVerificationOptions { RedisServerPath = "redis-server" });

            Assert.Equal("Restore", result.FailedChecks);
            Assert.Contains("exited while loading", result[BackupCheck.Restore]!.Detail);
        }
    }
}
