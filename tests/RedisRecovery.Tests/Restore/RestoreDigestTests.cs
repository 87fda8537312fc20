using System;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Restore;
using RedisRecovery.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Restore
{
    /// <summary>A restore into an empty target proves itself by the source's digest, computed from the file, against DEBUG DIGEST.</summary>
    public sealed class RestoreDigestTests
    {
        private const string Generated = "generated/rdb/dump-7.0.15.rdb";
        private readonly ITestOutputHelper _output;

        public RestoreDigestTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public async Task Restore_IntoEmptyTarget_ComparesTheSourceDigestWithTheTargets()
        {
            var fixture = FixtureManifest.Get(Generated);
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var result = await RedisRestorer.RestoreAsync(RestoreTestKit.Options(fixture.FullPath, target));

            Assert.True(result.Verified, RestoreTestKit.Describe(result));
            Assert.Equal(fixture.Digest, result.SourceDigest);
            Assert.Equal(fixture.Digest, result.TargetDigest);
            Assert.Contains("digest matches (49 keys)", result.VerificationDetail);
            Assert.True(result.SourceDigestDuration > TimeSpan.Zero);
        }

        [Fact]
        public async Task FilteredRestore_ComparesTheDigestOfExactlyTheRestoredKeys()
        {
            var fixture = FixtureManifest.Get(Generated);
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(fixture.FullPath, RestoreTestKit.Options(fixture.FullPath, target).Target)
            {
                Database = 3,
                TargetDatabase = 5,
                KeyPattern = "*e*",
            });

            Assert.True(result.Verified, RestoreTestKit.Describe(result));
            Assert.Contains("digest matches", result.VerificationDetail);
            Assert.Equal(result.TargetDigest, result.SourceDigest);
            Assert.NotEqual(fixture.Digest, result.SourceDigest);
            Assert.NotEqual(new string('0', 40), result.SourceDigest);
        }

        [Fact]
        public async Task Digests_OfADifferentTarget_Differ_AndSayBoth()
        {
            var fixture = FixtureManifest.Get(Generated);
            await using var server = await RestoreTestKit.StartTargetAsync(_output);
            await using (var connection = await RestoreTestKit.ConnectAsync(server))
            {
                await connection.ExecuteAsync("SET", "only", "this");
            }
            var options = RestoreTestKit.Options(fixture.FullPath, server);
            await using var target = await RestoreTarget.ConnectAsync(options.Target, null, default);
            var result = new RestoreResult();

            var (same, detail) = await DigestVerification.CompareAsync(options, target, result, entry => entry.Database, DateTimeOffset.UtcNow, default);

            Assert.False(same);
            Assert.Equal($"digest differs: source {fixture.Digest}, target {result.TargetDigest}", detail);
        }

        [Fact]
        public async Task Restore_WithSkipDigest_ComputesNeitherDigest()
        {
            var fixture = FixtureManifest.Get(Generated);
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(fixture.FullPath, RestoreTestKit.Options(fixture.FullPath, target).Target) { SkipDigest = true });

            Assert.True(result.Verified, RestoreTestKit.Describe(result));
            Assert.Null(result.SourceDigest);
            Assert.Null(result.TargetDigest);
            Assert.Contains("DEBUG DIGEST skipped", result.VerificationDetail);
        }

        [Fact]
        public async Task Restore_OfAnAof_SaysTheSourceDigestIsNotComputed()
        {
            var fixture = FixtureManifest.Get("generated/aof-preamble-no/appendonlydir");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var result = await RedisRestorer.RestoreAsync(RestoreTestKit.Options(fixture.FullPath, target));

            Assert.Null(result.SourceDigest);
            Assert.Equal(fixture.Digest, result.TargetDigest);
            Assert.Contains("not compared: an AOF source's digest is only known by replaying it", result.VerificationDetail);
        }

        [Fact]
        public async Task Restore_IntoOneDatabase_WhileAnotherHoldsKeys_DoesNotCompareDigests()
        {
            var fixture = FixtureManifest.Get(Generated);
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            await using (var connection = await RestoreTestKit.ConnectAsync(target, 9))
            {
                await connection.ExecuteAsync("SET", "elsewhere", "x");
            }

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(fixture.FullPath, RestoreTestKit.Options(fixture.FullPath, target).Target) { Database = 0 });

            Assert.True(result.Verified, RestoreTestKit.Describe(result));
            Assert.Null(result.SourceDigest);
            Assert.Contains("digest not compared: other databases of the target held keys before", result.VerificationDetail);
        }
    }
}
