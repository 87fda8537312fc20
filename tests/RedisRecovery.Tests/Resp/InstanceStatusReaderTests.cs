using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Resp
{
    public sealed class InstanceStatusReaderTests
    {
        private readonly ITestOutputHelper _output;

        public InstanceStatusReaderTests(ITestOutputHelper output) => _output = output;

        private RedisServerOptions Server() => new() { Output = _output };

        private static RedisConnectionOptions Options(RedisServerProcess server, RedisCredential? credential = null) =>
            new(RedisEndpoint.Parse(server.Endpoint)) { Credential = credential };

        [Fact]
        public async Task Read_PlainServerWithoutPersistence_ReportsFactsAndWarnsThatARestartLosesEverything()
        {
            using var server = await RedisServerProcess.StartAsync(Server());
            await using (var connection = await RedisConnection.ConnectAsync(Options(server)))
            {
                await connection.ExecuteBatchAsync(new[]
                {
                    new RedisCommand("SET", "a", "1"), new RedisCommand("SET", "b", "2", "EX", 100),
                    new RedisCommand("SELECT", 5), new RedisCommand("SET", "c", "3"),
                });
            }
            var status = await InstanceStatusReader.ReadAsync(Options(server));
            Assert.Equal(server.Endpoint, status.Endpoint);
            Assert.Equal("master", status.Role);
            Assert.Equal("7.0.15", status.Version);
            Assert.Equal("standalone", status.Mode);
            Assert.Equal(server.ProcessId, status.ProcessId);
            Assert.True(status.ConfigAvailable);
            Assert.Equal("none", status.PersistenceSummary);
            Assert.Equal(string.Empty, status.SavePoints);
            Assert.False(status.AppendOnly);
            Assert.Equal(server.Directory, status.Directory);
            Assert.Equal("dump.rdb", status.DbFilename);
            Assert.Equal("appendonlydir", status.AppendDirName);
            Assert.Equal("everysec", status.AppendFsync);
            Assert.True(status.AofUseRdbPreamble);
            Assert.Equal("ok", status.LastBgsaveStatus);
            Assert.Equal(3, status.ChangesSinceLastSave);
            Assert.Equal(new[] { (0, 2L, 1L), (5, 1L, 0L) }, status.Databases.Select(db => (db.Database, db.Keys, db.Expires)));
            Assert.Equal(3, status.TotalKeys);
            Assert.True(status.UsedMemory > 0);
            Assert.False(status.ClusterEnabled);
            Assert.Null(status.MasterLinkStatus);
            var warning = Assert.Single(status.Warnings);
            Assert.StartsWith("No persistence", warning);
        }

        [Fact]
        public async Task Read_ServerWithSavePointsAndAof_SummarizesBothAndHasNoWarnings()
        {
            using var server = await RedisServerProcess.StartAsync(Server());
            await using (var connection = await RedisConnection.ConnectAsync(Options(server)))
            {
                await connection.ExecuteAsync("CONFIG", "SET", "save", "900 1 300 10");
                await connection.ExecuteAsync("CONFIG", "SET", "appendonly", "yes");
                await connection.ExecuteAsync("CONFIG", "SET", "appendfsync", "always");
                await connection.ExecuteAsync("SAVE");
            }
            var status = await InstanceStatusReader.ReadAsync(Options(server));
            Assert.Equal("RDB+AOF", status.PersistenceSummary);
            Assert.Equal("900 1 300 10", status.SavePoints);
            Assert.True(status.AppendOnly);
            Assert.Equal("always", status.AppendFsync);
            Assert.Equal(1, status.SavesSinceStart);
            Assert.InRange(status.LastSaveAge, TimeSpan.Zero, TimeSpan.FromMinutes(1));
            Assert.Empty(status.Warnings);
        }

        [Fact]
        public async Task Read_ManagedServiceWithoutConfig_ReportsUnknownSettingsAndWarns()
        {
            using var server = await RedisServerProcess.StartAsync(Server().AsManagedService());
            var status = await InstanceStatusReader.ReadAsync(Options(server));
            Assert.False(status.ConfigAvailable);
            Assert.Null(status.SavePoints);
            Assert.Null(status.RdbSnapshotsEnabled);
            Assert.Null(status.Directory);
            Assert.Equal("unknown", status.PersistenceSummary);
            Assert.Equal("7.0.15", status.Version);
            var warning = Assert.Single(status.Warnings);
            Assert.Contains("CONFIG is unavailable (disabled or renamed", warning);
        }

        [Fact]
        public async Task Read_AclUserWithoutConfigPermission_SaysConfigIsNotPermitted()
        {
            using var server = await RedisServerProcess.StartAsync(Server().WithAclUser("ops", "ops-Pass1", "~* +@read +info +@connection +cluster|info"));
            var status = await InstanceStatusReader.ReadAsync(Options(server, new RedisCredential("ops", "ops-Pass1")));
            Assert.False(status.ConfigAvailable);
            Assert.Contains(status.Warnings, warning => warning.Contains("not permitted for this user"));
        }

        [Fact]
        public async Task Read_RequirePassAndAclUser_ReadsTheSameStatus()
        {
            using var server = await RedisServerProcess.StartAsync(Server().RequirePass().WithAclUser());
            var legacy = await InstanceStatusReader.ReadAsync(Options(server, new RedisCredential(null, RedisServerVariants.Password)));
            var acl = await InstanceStatusReader.ReadAsync(Options(server, new RedisCredential(RedisServerVariants.AclUser, RedisServerVariants.AclPassword)));
            Assert.Equal(legacy.ProcessId, acl.ProcessId);
            Assert.True(acl.ConfigAvailable);
            Assert.DoesNotContain(RedisServerVariants.AclPassword, acl.ToString());
        }

        [Fact]
        public async Task Read_TlsServer_ReadsTheStatusOverTlsAndNamesTheEndpointRediss()
        {
            using var server = await RedisServerProcess.StartAsync(Server().WithTls(TestCertificates.Instance));
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { UseTls = true, Tls = { CaCertificatePath = TestCertificates.Instance.CaCertificate } };
            var status = await InstanceStatusReader.ReadAsync(options);
            Assert.Equal($"rediss://{server.Endpoint}", status.Endpoint);
            Assert.Equal(server.ProcessId, status.ProcessId);
        }

        [Fact]
        public async Task Read_ReplicaAndMaster_ReportLinkOffsetsAndReplicas()
        {
            using var master = await RedisServerProcess.StartAsync(Server().WithArguments("--repl-diskless-sync-delay", "0"));
            using var replica = await RedisServerProcess.StartAsync(Server());
            await using (var connection = await RedisConnection.ConnectAsync(Options(replica)))
            {
                await connection.ExecuteAsync("REPLICAOF", "127.0.0.1", master.Port);
            }
            var replicaStatus = await ReadUntilAsync(replica, status => status.MasterLinkStatus == "up");
            Assert.Equal("replica", replicaStatus.Role);
            Assert.Equal("up", replicaStatus.MasterLinkStatus);
            Assert.Equal("127.0.0.1", replicaStatus.MasterHost);
            Assert.Equal(master.Port, replicaStatus.MasterPort);
            Assert.NotNull(replicaStatus.ReplicaOffset);
            Assert.DoesNotContain(replicaStatus.Warnings, warning => warning.Contains("replication link"));

            // The master counts the replica online only once the replica acknowledges the stream, a moment later.
            var masterStatus = await ReadUntilAsync(master, status => status.Replicas.FirstOrDefault()?.State == "online");
            Assert.Equal("master", masterStatus.Role);
            Assert.Equal(1, masterStatus.ConnectedReplicas);
            var link = Assert.Single(masterStatus.Replicas);
            Assert.Equal($"127.0.0.1:{replica.Port}", link.Address);
            Assert.Equal("online", link.State);
        }

        [Fact]
        public async Task Read_ReplicaWhoseMasterIsGone_WarnsThatTheLinkIsDown()
        {
            using var replica = await RedisServerProcess.StartAsync(Server());
            var deadPort = RedisServerProcess.FreePort();
            await using (var connection = await RedisConnection.ConnectAsync(Options(replica)))
            {
                await connection.ExecuteAsync("REPLICAOF", "127.0.0.1", deadPort);
            }
            var status = await InstanceStatusReader.ReadAsync(Options(replica));
            Assert.Equal("replica", status.Role);
            Assert.Equal("down", status.MasterLinkStatus);
            Assert.Contains(status.Warnings, warning => warning.Contains($"replication link to master 127.0.0.1:{deadPort} is down"));
        }

        [Fact]
        public async Task Read_ClusterNodeWithoutSlots_ReportsClusterStateFail()
        {
            using var server = await RedisServerProcess.StartAsync(Server().WithArguments("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"));
            var status = await InstanceStatusReader.ReadAsync(Options(server));
            Assert.True(status.ClusterEnabled);
            Assert.Equal("cluster", status.Mode);
            Assert.Equal("fail", status.ClusterState);
            Assert.Equal(0, status.ClusterSlotsAssigned);
            Assert.Equal(1, status.ClusterKnownNodes);
            Assert.Contains(status.Warnings, warning => warning.StartsWith("Cluster state is 'fail'"));
        }

        [Fact]
        public async Task Read_AfterBgsaveAndAofRewriteFailed_WarnsAboutBoth()
        {
            // Saving into a directory that vanished under the server fails the way a lost volume does.
            using var server = await RedisServerProcess.StartAsync(Server().WithArguments("--enable-protected-configs", "yes"));
            var doomed = Path.Combine(server.Directory, "doomed");
            Directory.CreateDirectory(doomed);
            await using (var connection = await RedisConnection.ConnectAsync(Options(server)))
            {
                await connection.ExecuteAsync("CONFIG", "SET", "dir", doomed);
                await connection.ExecuteAsync("SET", "k", "v");
                Directory.Delete(doomed);
                await connection.ExecuteAsync("BGSAVE");
                await WaitAsync(connection, "rdb_bgsave_in_progress:0");
                // Redis 7 refuses at once when it cannot create the AOF directory, and records the failure.
                await connection.ExecuteBatchAsync(new[] { new RedisCommand("BGREWRITEAOF") });
                await WaitAsync(connection, "aof_rewrite_in_progress:0");
            }
            var status = await InstanceStatusReader.ReadAsync(Options(server));
            Assert.Equal("err", status.LastBgsaveStatus);
            Assert.Contains(status.Warnings, warning => warning.StartsWith("The last background save failed"));
            Assert.Equal("err", status.AofLastRewriteStatus);
            Assert.Contains(status.Warnings, warning => warning.StartsWith("The last AOF rewrite failed"));
        }

        [Fact]
        public async Task Build_AofWriteErrorInInfo_WarnsThatChangesAreNotDurable()
        {
            // A failing AOF write needs a full disk; the rule is checked on a real INFO with that one field changed.
            using var server = await RedisServerProcess.StartAsync(Server());
            await using var connection = await RedisConnection.ConnectAsync(Options(server));
            var text = (await connection.ExecuteAsync("INFO")).AsString()!.Replace("aof_last_write_status:ok", "aof_last_write_status:err");
            var status = InstanceStatusReader.Build(server.Endpoint, new RedisInfo(text), null, "disabled", null, null);
            Assert.Contains(status.Warnings, warning => warning.StartsWith("AOF writes are failing"));
        }

        [Fact]
        public async Task Read_WithoutInfo_FailsWithCommandUnavailable()
        {
            using var server = await RedisServerProcess.StartAsync(Server().AsManagedService("INFO"));
            var error = await Assert.ThrowsAsync<RedisServerErrorException>(() => InstanceStatusReader.ReadAsync(Options(server)));
            Assert.Equal(RedisErrorIds.CommandUnavailable, error.ErrorId);
            Assert.Contains("INFO", error.Message);
        }

        private static async Task<RedisInstanceStatus> ReadUntilAsync(RedisServerProcess server, Func<RedisInstanceStatus, bool> done)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (true)
            {
                var status = await InstanceStatusReader.ReadAsync(Options(server));
                if (done(status) || DateTime.UtcNow > deadline)
                {
                    return status;
                }
                await Task.Delay(50);
            }
        }

        private static async Task WaitAsync(RedisConnection connection, string field)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                if ((await connection.ExecuteAsync("INFO", "persistence")).AsString()!.Contains(field))
                {
                    return;
                }
                await Task.Delay(25);
            }
            throw new TimeoutException(field);
        }
    }
}
