using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using RedisRecovery.Aof;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Aof
{
    /// <summary>Manifests as Redis 7.x writes them beyond the plain case: quoted names, history lines, extra keys.</summary>
    public sealed class AofManifestVariantTests
    {
        private readonly ITestOutputHelper _output;

        public AofManifestVariantTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public async Task RealServer_AppendFileNameWithASpace_IsQuotedInTheManifest_AndReadAndRepaired()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var serverDirectory = Directory.CreateDirectory(Path.Combine(temp.Path, "live")).FullName;
            var options = new RedisServerOptions { Directory = serverDirectory, Output = _output };
            options.Arguments.AddRange(new[] { "--appendonly", "yes", "--appendfilename", "my app.aof", "--aof-use-rdb-preamble", "yes", "--appendfsync", "always" });
            using (var live = await RedisServerProcess.StartAsync(options))
            {
                await using var connection = await AofTestKit.ConnectAsync(live);
                for (var i = 0; i < 20; i++)
                {
                    await connection.ExecuteAsync("SET", $"before:{i}", "v");
                }
                await connection.ExecuteAsync("FLUSHALL");
                await connection.ExecuteAsync("SET", "after", "v");
                live.Kill();
            }
            var directory = Path.Combine(serverDirectory, "appendonlydir");
            var manifestText = File.ReadAllText(Path.Combine(directory, "my app.aof.manifest"));
            Assert.Contains("file \"my app.aof.1.base.rdb\" seq 1 type b", manifestText);

            var check = await AofChecker.CheckAsync(directory);
            Assert.Equal(AofStatus.Valid, check.Status);
            Assert.Equal(new[] { "my app.aof.1.base.rdb", "my app.aof.1.incr.aof" }, check.Files.Select(f => f.FileName));
            Assert.Equal(1, check.CommandCounts["FLUSHALL"]);

            var plan = await AofRepairer.PlanAsync(directory, new AofRepairRequest { BeforeCommand = "FLUSHALL" });
            var copy = Path.Combine(temp.Path, "rescue", "appendonlydir");
            await AofRepairer.ApplyToCopyAsync(plan, copy);
            Assert.Equal(manifestText, File.ReadAllText(Path.Combine(copy, "my app.aof.manifest")));
            using var server = await AofTestKit.StartOnAofDirectoryAsync(copy);
            await using var rescued = await AofTestKit.ConnectAsync(server);
            Assert.Equal(20, (await rescued.ExecuteAsync("DBSIZE")).Integer);
        }

        [Fact]
        public async Task HandWrittenManifest_WithEscapesHistoryAndOffsetKeys_LoadsLikeRedis_AndAnInPlaceCutKeepsItsLines()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var directory = Directory.CreateDirectory(Path.Combine(temp.Path, "appendonlydir")).FullName;
            var incrementalName = "a b.aof.2.incr.caf\u00e9.aof";
            File.WriteAllBytes(Path.Combine(directory, "a b.aof.1.base.aof"), AofTestKit.Command("SET", "base", "1"));
            File.WriteAllBytes(Path.Combine(directory, "a b.aof.1.incr.aof"), AofTestKit.Concat(new[] { AofTestKit.Command("SET", "k1", "1"), AofTestKit.Command("FLUSHALL") }));
            File.WriteAllBytes(Path.Combine(directory, incrementalName), AofTestKit.Command("SET", "k2", "2"));
            var kept = "# a comment line\n" +
                       "file \"a b.aof.1.base.aof\" seq 1 type b\n" +
                       "file 'a b.aof.0.base.rdb' seq 1 type h\n" +
                       "file \"a b.aof.1.incr.aof\" seq 1 type i startoffset 0 endoffset 60\n";
            var dropped = "file \"a b.aof.2.incr.caf\\xc3\\xa9.aof\" seq 2 type i startoffset 60\n";
            File.WriteAllText(Path.Combine(directory, "a b.aof.manifest"), kept + dropped);

            var check = await AofChecker.CheckAsync(directory);
            Assert.Equal(AofStatus.Valid, check.Status);
            Assert.Equal(new[] { "a b.aof.1.base.aof", "a b.aof.1.incr.aof", incrementalName }, check.Files.Select(f => f.FileName));
            Assert.Empty(check.UnlistedFiles);
            using (var server = await AofTestKit.StartOnAofDirectoryAsync(directory))
            {
                await using var connection = await AofTestKit.ConnectAsync(server);
                Assert.Equal(1, (await connection.ExecuteAsync("DBSIZE")).Integer);
                server.Kill();
            }
            // Redis may rewrite the manifest on start; put the hand-written one back.
            File.WriteAllText(Path.Combine(directory, "a b.aof.manifest"), kept + dropped);

            var plan = await AofRepairer.PlanAsync(directory, new AofRepairRequest { BeforeCommand = "FLUSHALL" });
            await AofRepairer.ApplyInPlaceAsync(plan, Path.Combine(temp.Path, "backup"));

            Assert.Equal(new[] { incrementalName }, plan.FilesDropped);
            Assert.Equal(kept, File.ReadAllText(Path.Combine(directory, "a b.aof.manifest")));
            Assert.False(File.Exists(Path.Combine(directory, incrementalName)));
            using var repaired = await AofTestKit.StartOnAofDirectoryAsync(directory);
            await using var check2 = await AofTestKit.ConnectAsync(repaired);
            Assert.Equal(2, (await check2.ExecuteAsync("DBSIZE")).Integer);
        }

        [Fact]
        public async Task ManifestListingOnlyHistoryFiles_IsInvalid_NotACrash()
        {
            using var temp = AofTestKit.NewTempDirectory();
            File.WriteAllBytes(Path.Combine(temp.Path, "a.aof.1.base.aof"), AofTestKit.Command("SET", "k", "v"));
            File.WriteAllText(Path.Combine(temp.Path, "a.aof.manifest"), "file a.aof.1.base.aof seq 1 type h\n");

            var result = await AofChecker.CheckAsync(temp.Path);

            Assert.Equal(AofStatus.ManifestInvalid, result.Status);
            Assert.Contains("only history", result.Error);
            await Assert.ThrowsAsync<AofManifestException>(() => AofRepairer.PlanAsync(temp.Path, new AofRepairRequest()));
        }
    }
}
