using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using RedisRecovery.Restore;
using RedisRecovery.Tests.Infrastructure;

namespace RedisRecovery.Tests.Restore
{
    /// <summary>Plain strings travel as MSET/MSETNX batches: what the target ends up holding, per conflict policy, is
    /// exactly what per-key RESTORE gave; the server's own command statistics show which path was taken.</summary>
    public sealed partial class RestoreBehaviourTests
    {
        private static readonly string LzfValue = new('z', 300);

        [Fact]
        public async Task StringBatches_CarryRawIntegerAndLzfStrings_TtlsAndOtherTypesGoThroughRestore()
        {
            using var source = await SnapshotAsync(
                "SET raw hello", "SET small -7", "SET medium 300", "SET large -70000", "SET padded 0123", "SET huge 9223372036854775807",
                $"SET packed {LzfValue}", "SET empty-looking x",
                "SET with-ttl 42 PX 3600000", $"SET lzf-with-ttl {LzfValue} PX 3600000", "RPUSH list a b");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { ExpectedDigest = source.Digest });

            _output.WriteLine(RestoreTestKit.Describe(result));
            Assert.True(result.Verified, result.VerificationDetail);
            Assert.Equal(11, result.KeysRestored);
            Assert.Equal(LzfValue, await GetAsync(target, "packed"));
            Assert.Equal("-70000", await GetAsync(target, "large"));
            Assert.Equal("0123", await GetAsync(target, "padded"));
            var calls = await CommandCallsAsync(target);
            Assert.Equal(1, calls.GetValueOrDefault("msetnx"));
            Assert.Equal(3, calls.GetValueOrDefault("restore"));
            Assert.False(calls.ContainsKey("mset"));
            await using var connection = await RestoreTestKit.ConnectAsync(target);
            Assert.InRange((await connection.ExecuteAsync("PTTL", "lzf-with-ttl")).Integer, 1, 3_600_000);
        }

        /// <summary>Two source databases mapped into one target database both hold "dup": the second copy meets the first
        /// inside the restore, and each policy must treat it as it treats any existing key.</summary>
        [Theory]
        [InlineData(KeyConflictPolicy.Fail, "first", 0, 1)]
        [InlineData(KeyConflictPolicy.Skip, "first", 1, 0)]
        [InlineData(KeyConflictPolicy.Replace, "second", 0, 0)]
        public async Task StringBatches_KeepPerKeyConflictSemantics_WhenSourceDatabasesMeetInOneTarget(KeyConflictPolicy policy, string expected, int skipped, int failed)
        {
            using var source = await SnapshotAsync("SET dup first", "SET a 1", "SELECT 1", "SET dup second", "SET b 2", "SET c 3");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target)
            {
                KeyConflict = policy,
                TargetDatabase = 0,
            });

            _output.WriteLine(RestoreTestKit.Describe(result));
            Assert.Equal(expected, await GetAsync(target, "dup"));
            Assert.Equal(skipped, result.KeysSkipped.Conflict);
            Assert.Equal(failed, result.KeysFailedCount);
            Assert.Equal(5 - skipped - failed, result.KeysRestored);
            Assert.Equal(new Dictionary<int, long> { [0] = 4 }, await RestoreTestKit.KeyspaceAsync(target));
            Assert.Equal("3", await GetAsync(target, "c"));
            var calls = await CommandCallsAsync(target);
            Assert.Equal(2, calls.GetValueOrDefault(policy == KeyConflictPolicy.Replace ? "mset" : "msetnx"));
            // A refused MSETNX sets none of its keys: all three of the second database go again, one RESTORE each.
            Assert.Equal(policy == KeyConflictPolicy.Replace ? 0 : 3, calls.GetValueOrDefault("restore"));
        }

        [Fact]
        public async Task StringBatches_AreNotUsed_WhereTheTargetMayHoldTheKeys()
        {
            using var source = await SnapshotAsync("SET a 1", "SET b 2");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            await RunAsync(target, "SET other x");

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { KeyConflict = KeyConflictPolicy.Skip });

            Assert.Equal(2, result.KeysRestored);
            var calls = await CommandCallsAsync(target);
            Assert.Equal(2, calls.GetValueOrDefault("restore"));
            Assert.False(calls.ContainsKey("msetnx"));
        }

        [Fact]
        public async Task StringBatches_AreNotSentToAClusterNode_WhoseSlotsDifferPerKey()
        {
            using var source = await SnapshotAsync(Enumerable.Range(0, 50).Select(i => $"SET key:{i} v{i}").ToArray());
            await using var target = await RestoreTestKit.StartTargetAsync(_output, null, null, "cluster-enabled yes");
            await RunAsync(target, "CLUSTER ADDSLOTSRANGE 0 16383");
            await using (var connection = await RestoreTestKit.ConnectAsync(target))
            {
                while (!((await connection.ExecuteAsync("CLUSTER", "INFO")).AsString() ?? "").Contains("cluster_state:ok"))
                {
                    await Task.Delay(50);
                }
            }

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { ExpectedDigest = source.Digest });

            _output.WriteLine(RestoreTestKit.Describe(result));
            Assert.True(result.Verified, result.VerificationDetail);
            Assert.Equal(50, result.KeysRestored);
            var calls = await CommandCallsAsync(target);
            Assert.Equal(50, calls.GetValueOrDefault("restore"));
            Assert.False(calls.ContainsKey("msetnx"));
        }

        /// <summary>Calls per command since the server started (INFO commandstats), lower-case names.</summary>
        private static async Task<Dictionary<string, long>> CommandCallsAsync(RedisServerProcess server)
        {
            await using var connection = await RestoreTestKit.ConnectAsync(server);
            var stats = (await connection.ExecuteAsync("INFO", "commandstats")).AsString() ?? "";
            return Regex.Matches(stats, @"cmdstat_([a-z|]+):calls=(\d+)").Cast<Match>()
                .ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        }
    }
}
