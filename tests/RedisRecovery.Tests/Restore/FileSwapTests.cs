using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Restore;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Restore
{
    /// <summary>The offline file swap on a real server that runs from a config file with AOF on.</summary>
    public sealed class FileSwapTests
    {
        private readonly ITestOutputHelper _output;

        public FileSwapTests(ITestOutputHelper output) => _output = output;

        [Theory]
        [InlineData("generated/rdb/dump-7.0.15.rdb")]
        [InlineData("public/leonchen83__redis-replicator/dumpV6.rdb")]
        [InlineData("public/redis__redis/test.rdb")]
        public async Task FileSwap_ReplacesTheData_KeepsTheOldFiles_AndRebuildsTheAof(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            var directory = RedisServerProcess.CreateTempDirectory();
            var port = RedisServerProcess.FreePort();
            RedisServerProcess? server = null;
            try
            {
                server = await StartAsync(directory, port, "appendonly yes", "dbfilename dump.rdb");
                await using (var connection = await RestoreTestKit.ConnectAsync(server))
                {
                    await connection.ExecuteAsync("SET", "old-data", "1");
                    await connection.ExecuteAsync("SAVE");
                }
                var options = new RestoreOptions(fixture.FullPath, RestoreTestKit.Options(fixture.FullPath, server).Target)
                {
                    Mode = RestoreMode.FileSwap,
                    ExpectedDigest = fixture.Digest,
                    StartServer = async _ => server = await StartAsync(directory, port, File.ReadAllLines(Path.Combine(directory, "redis.conf"))),
                    StartTimeout = TimeSpan.FromSeconds(30),
                };

                var plan = await RedisRestorer.PlanFileSwapAsync(options);
                var result = await RedisRestorer.RestoreAsync(options);

                _output.WriteLine(plan.ToString());
                _output.WriteLine(RestoreTestKit.Describe(result));
                Assert.Contains(plan.Steps, step => step.Contains("SHUTDOWN NOSAVE"));
                Assert.True(result.Completed);
                Assert.True(result.Verified, result.VerificationDetail);
                Assert.Equal(RestoreTestKit.Describe(fixture.DbSize!), RestoreTestKit.Describe(await RestoreTestKit.KeyspaceAsync(server!)));
                Assert.Equal(fixture.Digest, await RestoreTestKit.DigestAsync(server!));
                Assert.Contains(result.MovedAsideFiles, f => Path.GetFileName(f).StartsWith("dump.rdb.before-restore-", StringComparison.Ordinal));
                Assert.Contains(result.MovedAsideFiles, f => Path.GetFileName(f).StartsWith("appendonlydir.before-restore-", StringComparison.Ordinal));
                Assert.Contains("appendonly yes", File.ReadAllLines(Path.Combine(directory, "redis.conf")));
                Assert.NotEmpty(Directory.GetFiles(Path.Combine(directory, "appendonlydir"), "*.base.*"));
                await using var check = await RestoreTestKit.ConnectAsync(server!);
                Assert.Equal("yes", (await check.ExecuteAsync("CONFIG", "GET", "appendonly")).Items[1].AsString());
            }
            finally
            {
                if (server != null)
                {
                    await server.DisposeAsync();
                }
                Directory.Delete(directory, recursive: true);
            }
        }

        [Fact]
        public async Task FileSwap_OfAnAof_IsMisuse()
        {
            var fixture = FixtureManifest.Get("generated/aof-preamble-no/appendonlydir");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var misuse = await Assert.ThrowsAsync<RedisRecoveryException>(() => RedisRestorer.RestoreAsync(
                new RestoreOptions(fixture.FullPath, RestoreTestKit.Options(fixture.FullPath, target).Target) { Mode = RestoreMode.FileSwap, StartServer = _ => Task.CompletedTask }));

            Assert.Equal(RestoreErrorIds.InvalidOptions, misuse.ErrorId);
            Assert.Empty(await RestoreTestKit.KeyspaceAsync(target));
        }

        /// <summary>A server on a fixed port and directory from a config file; the harness adds --appendonly no after the file,
        /// so AOF is switched on explicitly where the config asks for it.</summary>
        private Task<RedisServerProcess> StartAsync(string directory, int port, params string[] configLines)
        {
            var options = new RedisServerOptions { Output = _output, Directory = directory, Port = port };
            options.ConfigLines.AddRange(configLines);
            if (configLines.Any(line => line.Trim() == "appendonly yes"))
            {
                options.Arguments.AddRange(new[] { "--appendonly", "yes" });
            }
            return RedisServerProcess.StartAsync(options);
        }
    }
}
