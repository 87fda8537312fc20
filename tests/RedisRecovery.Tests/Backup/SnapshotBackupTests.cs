using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;
using static RedisRecovery.Tests.Backup.BackupTestDirectory;

namespace RedisRecovery.Tests.Backup
{
    public sealed class SnapshotBackupTests
    {
        private static readonly DateTime Now = Utc("2026-11-22T03:00:00");
        private readonly ITestOutputHelper _output;

        public SnapshotBackupTests(ITestOutputHelper output) => _output = output;

        public static IEnumerable<object[]> MasterKinds => new[]
        {
            new object[] { "disk" },
            new object[] { "diskless" },
        };

        [Theory]
        [MemberData(nameof(MasterKinds))]
        public async Task Replication_FromMaster_WritesAVerifiedBackupThatLoadsWithTheSourceDigest(string kind)
        {
            var options = new RedisServerOptions { Output = _output };
            if (kind == "diskless")
            {
                options.Arguments.AddRange(new[] { "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0" });
            }
            else
            {
                options.Arguments.AddRange(new[] { "--repl-diskless-sync", "no" });
            }
            using var server = await RedisServerProcess.StartAsync(options);
            var keys = await SnapshotDataset.FillAsync(server);
            using var directory = new BackupTestDirectory();
            var progress = new List<OperationProgress>();

            var backup = await SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Replication), new SynchronousProgress<OperationProgress>(progress.Add));

            Assert.Equal(BackupMethod.Replication, backup.Method);
            Assert.True(backup.PointInTime);
            Assert.Equal(directory.FullPath($"127.0.0.1-{server.Port}_20261122T030000Z.rdb"), backup.Path);
            Assert.Equal(new[] { Path.GetFileName(backup.Path), Path.GetFileName(backup.Path) + ".json" }, directory.FileNames());
            Assert.Equal(keys.OrderBy(p => p.Key), backup.KeysPerDatabase!.OrderBy(p => p.Key));
            Assert.Equal($"127.0.0.1:{server.Port}", backup.Endpoint);
            Assert.Equal("7.0.15", backup.RedisVersion);
            Assert.Equal(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(backup.Path))).ToLowerInvariant(), backup.Sha256);
            Assert.Equal(new FileInfo(backup.Path).Length, backup.SizeBytes);
            Assert.Contains(progress, report => report.Completed == backup.SizeBytes);
            Assert.Equal(await SnapshotDataset.DigestAsync(server), await SnapshotDataset.LoadedDigestAsync(backup.Path, _output));
            var listed = Assert.Single(await directory.Catalog.ListAsync(null, CancellationToken.None));
            Assert.Equal(BackupStatus.Ok, listed.Status);
        }

        [Fact]
        public async Task Replication_DisklessMaster_AnnouncesTheEofMarkForm()
        {
            var options = new RedisServerOptions { Output = _output };
            options.Arguments.AddRange(new[] { "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0" });
            using var server = await RedisServerProcess.StartAsync(options);
            await SnapshotDataset.FillAsync(server);
            await using var transfer = await ReplicationTransfer.StartAsync(SnapshotDataset.Options(server), NullOperationLog.Instance, CancellationToken.None);
            Assert.True(transfer.IsDiskless);
            Assert.Null(transfer.Length);
        }

        [Fact]
        public async Task Bgsave_OnThisHost_CopiesTheSavedFile_WhichLoadsWithTheSourceDigest()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            var keys = await SnapshotDataset.FillAsync(server);
            using var directory = new BackupTestDirectory();

            var backup = await SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Bgsave));

            Assert.Equal(BackupMethod.Bgsave, backup.Method);
            Assert.True(backup.PointInTime);
            Assert.Equal(keys.OrderBy(p => p.Key), backup.KeysPerDatabase!.OrderBy(p => p.Key));
            Assert.Equal(File.ReadAllBytes(Path.Combine(server.Directory, "dump.rdb")), File.ReadAllBytes(backup.Path));
            Assert.Equal(await SnapshotDataset.DigestAsync(server), await SnapshotDataset.LoadedDigestAsync(backup.Path, _output));
        }

        [Fact]
        public async Task Bgsave_WhenASaveIsAlreadyRunning_WaitsForItInsteadOfFailing()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await SnapshotDataset.FillAsync(server);
            await using (var connection = await RedisConnection.ConnectAsync(SnapshotDataset.Options(server)))
            {
                // A slow save (rdb-key-save-delay, microseconds per key) is still running when the backup asks for one.
                await connection.ExecuteAsync("CONFIG", "SET", "rdb-key-save-delay", 20000);
                await connection.ExecuteAsync("BGSAVE");
            }
            using var directory = new BackupTestDirectory();
            var log = new RecordingLog();

            var backup = await SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Bgsave), log: log);

            Assert.Equal(BackupMethod.Bgsave, backup.Method);
            Assert.Contains(log.Verbose, line => line.Contains("already saving"));
        }

        [Fact]
        public async Task Auto_WithSyncAndPsyncRenamedAway_FallsBackToBgsave_AndSaysWhy()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.AsManagedService("SYNC", "PSYNC"));
            await SnapshotDataset.FillAsync(server);
            using var directory = new BackupTestDirectory();
            var log = new RecordingLog();

            var backup = await SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Auto), log: log);

            Assert.Equal(BackupMethod.Bgsave, backup.Method);
            Assert.Contains("replication refused", backup.MethodDetail);
            Assert.Contains("SYNC", backup.MethodDetail);
            Assert.Contains(log.Verbose, line => line.StartsWith("Auto: replication", StringComparison.Ordinal));
            Assert.Equal(await SnapshotDataset.DigestAsync(server), await SnapshotDataset.LoadedDigestAsync(backup.Path, _output));
        }

        [Fact]
        public async Task Auto_OnAServerThatAcceptsReplicas_UsesReplication()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await SnapshotDataset.FillAsync(server);
            using var directory = new BackupTestDirectory();

            var backup = await SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Auto));

            Assert.Equal(BackupMethod.Replication, backup.Method);
            Assert.Contains("first choice", backup.MethodDetail);
        }

        [Fact]
        public async Task Auto_AsAnAclUserWithoutSyncRights_FallsBackOnNoPerm_AndAuthenticatesEveryConnection()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }
                .RequirePass().WithAclUser(permissions: "~* &* +@all -sync -psync"));
            using var directory = new BackupTestDirectory();
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint))
            {
                Credential = new RedisCredential(RedisServerVariants.AclUser, RedisServerVariants.AclPassword),
            };
            await using (var connection = await RedisConnection.ConnectAsync(options))
            {
                await connection.ExecuteAsync("SET", "k", "v");
            }

            var backup = await SnapshotBackup.RunAsync(new SnapshotRequest(options, directory.Path) { UtcNow = () => Now });

            Assert.Equal(BackupMethod.Bgsave, backup.Method);
            Assert.Contains("may not run", backup.MethodDetail);
            Assert.DoesNotContain(RedisServerVariants.AclPassword, backup.MethodDetail);
            Assert.DoesNotContain(RedisServerVariants.AclPassword, File.ReadAllText(backup.SidecarPath));
            Assert.Equal(1, backup.KeyCount);
        }

        [Fact]
        public async Task Replication_WhenRequestedButRenamedAway_FailsWithReplicationUnavailable_AndLeavesNoFile()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.AsManagedService("SYNC", "PSYNC"));
            using var directory = new BackupTestDirectory();

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Replication)));

            Assert.Equal(SnapshotErrorIds.ReplicationUnavailable, error.ErrorId);
            Assert.Equal(FailureKind.CommandUnavailable, error.Kind);
            Assert.Contains("SYNC", error.Message);
            Assert.Empty(directory.FileNames());
        }

        [Fact]
        public async Task Bgsave_WhenConfigIsRenamedAway_FailsWithBgsaveUnavailable()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.AsManagedService("CONFIG"));
            using var directory = new BackupTestDirectory();

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Bgsave)));

            Assert.Equal(SnapshotErrorIds.BgsaveUnavailable, error.ErrorId);
            Assert.Empty(directory.FileNames());
        }

        [Fact]
        public async Task Replication_SourceKilledMidTransfer_LeavesNoFile_NoTemporary_AndEarlierBackupsIntact()
        {
            var options = new RedisServerOptions { Output = _output };
            options.Arguments.AddRange(new[] { "--repl-diskless-sync", "no" });
            using var server = await RedisServerProcess.StartAsync(options);
            await using (var connection = await RedisConnection.ConnectAsync(SnapshotDataset.Options(server)))
            {
                // About 70 MB of RDB: far more than the socket buffers hold, so the kill lands mid-stream.
                await connection.ExecuteAsync("DEBUG", "POPULATE", 500_000, "key", 128);
            }
            using var directory = new BackupTestDirectory();
            var earlier = directory.AddBackup($"127.0.0.1-{server.Port}", Utc("2026-11-22T02:00"));
            var earlierBytes = File.ReadAllBytes(directory.FullPath(earlier));
            var killedAt = 0L;
            var killer = new SynchronousProgress<OperationProgress>(report =>
            {
                if (report.Completed > 0 && killedAt == 0 && report.Activity.StartsWith("Backing up", StringComparison.Ordinal))
                {
                    killedAt = report.Completed;
                    server.Kill();
                }
            });

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Replication), killer));

            Assert.True(killedAt > 0);
            Assert.Equal(SnapshotErrorIds.TransferInterrupted, error.ErrorId);
            Assert.Contains("closed the connection after", error.Message);
            Assert.Equal(new[] { earlier, earlier + ".json" }, directory.FileNames());
            Assert.Equal(earlierBytes, File.ReadAllBytes(directory.FullPath(earlier)));
        }

        [Fact]
        public async Task Replication_Cancelled_LeavesNothingBehind()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await using (var connection = await RedisConnection.ConnectAsync(SnapshotDataset.Options(server)))
            {
                await connection.ExecuteAsync("DEBUG", "POPULATE", 300_000, "key", 128);
            }
            using var directory = new BackupTestDirectory();
            using var cancellation = new CancellationTokenSource();
            var progress = new SynchronousProgress<OperationProgress>(report =>
            {
                if (report.Completed > 0)
                {
                    cancellation.Cancel();
                }
            });

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Replication), progress, cancellationToken: cancellation.Token));

            Assert.Empty(directory.FileNames());
        }

        [Fact]
        public async Task Logical_OnAQuiescentSource_LoadsWithTheSourceDigest_AndSaysItIsNotPointInTime()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            var keys = await SnapshotDataset.FillAsync(server);
            using var directory = new BackupTestDirectory();
            var log = new RecordingLog();

            var backup = await SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Logical), log: log);

            Assert.Equal(BackupMethod.Logical, backup.Method);
            Assert.False(backup.PointInTime);
            Assert.Contains(log.Warnings, line => line.Contains("not a single point in time"));
            Assert.Equal(keys.OrderBy(p => p.Key), backup.KeysPerDatabase!.OrderBy(p => p.Key));
            Assert.Equal("7.0.15", backup.RedisVersion);
            Assert.Equal(await SnapshotDataset.DigestAsync(server), await SnapshotDataset.LoadedDigestAsync(backup.Path, _output));
        }

        [Fact]
        public async Task Auto_OnAManagedServiceWithoutSyncBgsaveOrConfig_FallsBackToLogical_AndExplainsEachFallback()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.AsManagedService("SYNC", "PSYNC", "BGSAVE", "CONFIG"));
            await SnapshotDataset.FillAsync(server);
            using var directory = new BackupTestDirectory();
            var log = new RecordingLog();

            var backup = await SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Auto), log: log);

            Assert.Equal(BackupMethod.Logical, backup.Method);
            Assert.False(backup.PointInTime);
            Assert.Contains("Replication:", backup.MethodDetail);
            Assert.Contains("Bgsave:", backup.MethodDetail);
            Assert.Contains(log.Verbose, line => line.StartsWith("Auto: replication", StringComparison.Ordinal));
            Assert.Contains(log.Verbose, line => line.StartsWith("Auto: BGSAVE", StringComparison.Ordinal));
            Assert.Equal(await SnapshotDataset.DigestAsync(server), await SnapshotDataset.LoadedDigestAsync(backup.Path, _output));
        }

        [Fact]
        public async Task Logical_WithMaxOpsPerSecond_TakesAtLeastAsLongAsTheLimitAllows()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await using (var connection = await RedisConnection.ConnectAsync(SnapshotDataset.Options(server)))
            {
                await connection.ExecuteAsync("DEBUG", "POPULATE", 150);
            }
            using var directory = new BackupTestDirectory();
            var watch = System.Diagnostics.Stopwatch.StartNew();

            var backup = await SnapshotBackup.RunAsync(new SnapshotRequest(SnapshotDataset.Options(server), directory.Path)
            {
                Method = SnapshotMethod.Logical,
                MaxOpsPerSecond = 500,
            });

            // 150 keys: 300 DUMP/PTTL commands and a few SCANs at 500 per second.
            Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.55), $"took {watch.Elapsed}");
            Assert.Equal(150, backup.KeyCount);
        }

        [Fact]
        public async Task Logical_WhenDumpIsRenamedAway_FailsWithLogicalBackupUnavailable()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.AsManagedService("DUMP"));
            using var directory = new BackupTestDirectory();

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => SnapshotBackup.RunAsync(Request(server, directory, SnapshotMethod.Logical)));

            Assert.Equal(SnapshotErrorIds.LogicalUnavailable, error.ErrorId);
            Assert.Empty(directory.FileNames());
        }

        private static SnapshotRequest Request(RedisServerProcess server, BackupTestDirectory directory, SnapshotMethod method) =>
            new(SnapshotDataset.Options(server), directory.Path) { Method = method, UtcNow = () => Now, Timeout = TimeSpan.FromSeconds(60) };

        internal sealed class RecordingLog : IOperationLog
        {
            public List<string> Verbose { get; } = new();

            public List<string> Warnings { get; } = new();

            void IOperationLog.Verbose(string message) => Verbose.Add(message);

            public void Warning(string message) => Warnings.Add(message);
        }
    }
}
