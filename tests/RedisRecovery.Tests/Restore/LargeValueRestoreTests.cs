using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Resp;
using RedisRecovery.Restore;
using RedisRecovery.Tests.Aof;
using RedisRecovery.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Restore
{
    /// <summary>The allocation bound below reads a process-wide counter: nothing else may run meanwhile.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class AllocationMeasuringCollection
    {
        public const string Name = "Allocation measuring (runs alone)";
    }

    /// <summary>Values above the reader's threshold pass through to the target without being held, and verification
    /// can leave DEBUG DIGEST out.</summary>
    [Collection(AllocationMeasuringCollection.Name)]
    public sealed class LargeValueRestoreTests
    {
        private const int Threshold = 64 * 1024;
        private const int LargeStringBytes = 24 * 1024 * 1024;
        private readonly ITestOutputHelper _output;

        public LargeValueRestoreTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public async Task ValuesAboveTheThreshold_AreStreamed_NotHeld_AndTheTargetGetsTheSourcesDigest()
        {
            using var temp = new TempDirectory(RedisServerProcess.CreateTempDirectory());
            var directory = temp.Path;
            var (rdb, digest) = await CreateSourceAsync(directory);
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            var options = new RestoreOptions(rdb, RestoreTestKit.Options(rdb, target).Target) { LargeValueThreshold = Threshold };

            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var result = await RedisRestorer.RestoreAsync(options);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

            _output.WriteLine($"{RestoreTestKit.Describe(result)}; allocated {allocated} bytes");
            Assert.True(result.Verified, RestoreTestKit.Describe(result));
            Assert.Equal(4, result.KeysRestored);
            Assert.Equal(digest, result.TargetDigest);
            // Holding the 24 MiB string alone would allocate at least its size (more while a buffer grows towards it).
            Assert.True(allocated < LargeStringBytes / 3, $"the restore allocated {allocated} bytes for a {LargeStringBytes}-byte value");
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), "redisrecovery-restore-*.payload"));
        }

        [Fact]
        public async Task SkipDigest_VerifiesByKeyCountsOnly_AndTheDigestTimeIsReportedApart()
        {
            using var temp = new TempDirectory(RedisServerProcess.CreateTempDirectory());
            var directory = temp.Path;
            var (rdb, digest) = await CreateSourceAsync(directory);
            await using var skipping = await RestoreTestKit.StartTargetAsync(_output);
            await using var digesting = await RestoreTestKit.StartTargetAsync(_output);

            var skipped = await RedisRestorer.RestoreAsync(new RestoreOptions(rdb, RestoreTestKit.Options(rdb, skipping).Target) { SkipDigest = true });
            var digested = await RedisRestorer.RestoreAsync(RestoreTestKit.Options(rdb, digesting));

            Assert.True(skipped.Verified, RestoreTestKit.Describe(skipped));
            Assert.Null(skipped.TargetDigest);
            Assert.Equal(TimeSpan.Zero, skipped.DigestDuration);
            Assert.Contains("DEBUG DIGEST skipped", skipped.VerificationDetail);
            Assert.Equal(digest, await RestoreTestKit.DigestAsync(skipping));
            Assert.Equal(digest, digested.TargetDigest);
            Assert.True(digested.DigestDuration > TimeSpan.Zero);
            Assert.True(digested.DigestDuration <= digested.VerificationDuration);
        }

        /// <summary>An RDB (uncompressed, so sizes are what they seem) with a large string, a large list, a large hash, and a small key.</summary>
        private async Task<(string Path, string Digest)> CreateSourceAsync(string directory)
        {
            var options = new RedisServerOptions { Output = _output, Directory = directory };
            options.Arguments.AddRange(new[] { "--dbfilename", "dump.rdb", "--rdbcompression", "no" });
            await using var server = await RedisServerProcess.StartAsync(options);
            await using var connection = await RestoreTestKit.ConnectAsync(server);
            var random = new Random(7);
            var large = new byte[LargeStringBytes];
            random.NextBytes(large);
            await connection.ExecuteAsync(new RedisCommand("SET", "large-string", large));
            await connection.ExecuteAsync(new RedisCommand("PEXPIREAT", "large-string", DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds()));
            await connection.ExecuteAsync(new RedisCommand("RPUSH", new RedisArgument[] { "large-list" }.Concat(Enumerable.Range(0, 20000).Select(i => (RedisArgument)$"item-{i}-{random.Next()}"))));
            await connection.ExecuteAsync(new RedisCommand("HSET", new RedisArgument[] { "large-hash" }.Concat(Enumerable.Range(0, 5000).SelectMany(i => new RedisArgument[] { $"field-{i}", $"value-{random.Next()}" }))));
            await connection.ExecuteAsync(new RedisCommand("SET", "small", "value"));
            Assert.Equal("OK", (await connection.ExecuteAsync(new RedisCommand("SAVE"))).AsString());
            var digest = (await connection.ExecuteAsync(new RedisCommand("DEBUG", "DIGEST"))).AsString()!;
            return (Path.Combine(directory, "dump.rdb"), digest);
        }
    }
}
