using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Restore;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Restore
{
    /// <summary>One redis-server 7.0 for every fixture of the class; each restore empties it first (-FlushTarget).</summary>
    public sealed class SharedTarget : IAsyncLifetime
    {
        public RedisServerProcess Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await RedisServerProcess.StartAsync(new RedisServerOptions());

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    /// <summary>
    /// Every fixture a real Redis 7.0 loads, restored online into a live 7.0: the target must end up with the
    /// manifest's dbsize and DEBUG DIGEST (what the native load gave). Files newer than 7.0 reads take the command
    /// path for the values 7.0 cannot RESTORE and must give the key counts the parser reports.
    /// </summary>
    public sealed class RestoreFixtureTests : IClassFixture<SharedTarget>
    {
        private readonly RedisServerProcess _target;
        private readonly ITestOutputHelper _output;

        public RestoreFixtureTests(SharedTarget shared, ITestOutputHelper output)
        {
            _target = shared.Server;
            _output = output;
        }

        public static IEnumerable<object[]> NativelyLoadedCases => FixtureManifest.Rows(c => c.ExpectValid && c.NativeLoadOk);

        public static IEnumerable<object[]> NewerRdbCases =>
            FixtureManifest.Rows(c => c.Kind == "rdb" && c.ExpectValid && c.NativeLoad == "too-new" && c.RdbVersion is "11" or "12" or "13");

        [Theory]
        [MemberData(nameof(NativelyLoadedCases))]
        public async Task Online_IntoEmptyRedis70_GivesTheNativeDbsizeAndDigest(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            var options = new RestoreOptions(fixture.FullPath, RestoreTestKit.Options(fixture.FullPath, _target).Target)
            {
                FlushTarget = true,
                ExpectedDigest = fixture.Digest,
            };

            var result = await RedisRestorer.RestoreAsync(options);

            _output.WriteLine(RestoreTestKit.Describe(result));
            Assert.True(result.Completed);
            Assert.Equal(0, result.KeysFailedCount);
            Assert.Equal(RestoreTestKit.Describe(fixture.DbSize!), RestoreTestKit.Describe(await RestoreTestKit.KeyspaceAsync(_target)));
            Assert.Equal(fixture.Digest, result.TargetDigest);
            Assert.True(result.Verified, result.VerificationDetail);
            if (fixture.Kind == "rdb")
            {
                Assert.Equal(fixture.DbSize!.Values.Sum(), result.KeysRestored);
                Assert.Equal(fixture.AlreadyExpired ?? 0, result.KeysSkipped.Expired);
                Assert.Equal(0, result.KeysViaCommandsCount);
            }
        }

        [Theory]
        [MemberData(nameof(NewerRdbCases))]
        public async Task Online_NewerRdbIntoRedis70_RebuildsWhatItCannotRestoreWithCommands(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            var now = DateTimeOffset.UtcNow;
            var parsed = new Dictionary<int, long>();
            var needsCommands = 0;
            var modules = 0;
            var expiredKeys = 0;
            using (var reader = new RdbReader(File.OpenRead(fixture.FullPath), new RdbReaderOptions { SourceName = fixture.FullPath }))
            {
                while (await reader.ReadEntryAsync() is RdbEntry entry)
                {
                    if (entry.IsExpiredAt(now))
                    {
                        expiredKeys++;
                        continue;
                    }
                    parsed[entry.Database] = (parsed.TryGetValue(entry.Database, out var n) ? n : 0) + 1;
                    needsCommands += RdbFormat.MinimumVersionOf(entry.TypeId) > 10 ? 1 : 0;
                    modules += entry.Type == RdbValueType.Module ? 1 : 0;
                }
            }
            var options = new RestoreOptions(fixture.FullPath, RestoreTestKit.Options(fixture.FullPath, _target).Target) { FlushTarget = true };

            var result = await RedisRestorer.RestoreAsync(options);

            _output.WriteLine(RestoreTestKit.Describe(result));
            Assert.True(result.Completed);
            // Beyond the keys that expired, a hash whose fields have all expired is skipped as expired too.
            var emptied = result.KeysSkipped.Empty + result.KeysSkipped.Expired - expiredKeys;
            Assert.Equal(needsCommands - emptied, result.KeysViaCommandsCount);
            Assert.Equal(modules, result.KeysFailedCount);
            Assert.All(result.KeysFailed, failure => Assert.Contains("module", failure.Reason));
            var keyspace = await RestoreTestKit.KeyspaceAsync(_target);
            Assert.Equal(parsed.Values.Sum() - modules - emptied, keyspace.Values.Sum());
            Assert.Equal(keyspace.Values.Sum(), result.KeysRestored);
            Assert.Equal(modules == 0, result.Verified);
        }
    }
}
