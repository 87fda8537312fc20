using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Rdb
{
    /// <summary>Our digest of an RDB must be what a real Redis 7.0 answers to DEBUG DIGEST once it has loaded the file.</summary>
    public sealed class RdbDigestTests
    {
        private readonly ITestOutputHelper _output;

        public RdbDigestTests(ITestOutputHelper output) => _output = output;

        public static IEnumerable<object[]> RdbFilesWithDigest =>
            FixtureManifest.Rows(c => c.Kind == "rdb" && c.ExpectValid && c.Digest != null);

        [Theory]
        [MemberData(nameof(RdbFilesWithDigest))]
        public async Task Digest_OfFixture_EqualsTheNativeLoadsDebugDigest(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);

            var result = await RdbDigest.ComputeAsync(fixture.FullPath);

            Assert.Null(result.UnknownReason);
            Assert.Equal(fixture.Digest, result.Digest);
            Assert.Equal(fixture.DbSize?.Values.Sum() ?? 0, result.Keys);
        }

        [Fact]
        public async Task FileCheck_WithDigest_ReportsTheDigest_AndForADamagedFileWhyNot()
        {
            var fixture = FixtureManifest.Get("generated/rdb/dump-7.0.15.rdb");
            var damaged = Path.Combine(Path.GetTempPath(), $"digest-damaged-{Guid.NewGuid():N}.rdb");
            var bytes = File.ReadAllBytes(fixture.FullPath);
            File.WriteAllBytes(damaged, bytes.Take(bytes.Length / 2).ToArray());
            try
            {
                var check = await RdbFileChecker.CheckFileAsync(fixture.FullPath, new RdbCheckOptions { Digest = true });
                var broken = await RdbFileChecker.CheckFileAsync(damaged, new RdbCheckOptions { Digest = true });
                var plain = await RdbFileChecker.CheckFileAsync(fixture.FullPath);

                Assert.Equal(fixture.Digest, check.Digest);
                Assert.Null(check.DigestUnknownReason);
                Assert.Null(broken.Digest);
                Assert.Contains("damaged", broken.DigestUnknownReason);
                Assert.Null(plain.Digest);
                Assert.Null(plain.DigestUnknownReason);
            }
            finally
            {
                File.Delete(damaged);
            }
        }

        [Fact]
        public async Task TestRdbFileWithDigest_ReportsTheDigestPassAsProgress_ToTheFilesEnd()
        {
            var fixture = FixtureManifest.Get("public/cupcake__rdb/keys_with_mixed_expiry.rdb");
            var reports = new List<OperationProgress>();

            var check = await RdbFileChecker.CheckFileAsync(fixture.FullPath, new RdbCheckOptions { Digest = true },
                new SynchronousProgress<OperationProgress>(reports.Add));

            Assert.NotNull(check.Digest);
            var last = reports.Last();
            Assert.Contains("DIGEST", last.Activity);
            Assert.Equal(new FileInfo(fixture.FullPath).Length, last.Completed);
            Assert.Equal(last.Total, last.Completed);
        }

        [Fact]
        public async Task Digest_OfEmptyDataset_IsFortyZeros()
        {
            var result = await RdbDigest.ComputeAsync(FixtureManifest.Get("public/HDT3213__rdb/empty_database.rdb").FullPath);

            Assert.Equal(new string('0', 40), result.Digest);
            Assert.Equal(0, result.Keys);
        }

        [Fact]
        public async Task Digest_AfterEveryTtlHasLapsed_LeavesTheExpiredKeysOut()
        {
            // The manifest's note gives the digest of this file once its two TTLs (2035) have passed.
            var fixture = FixtureManifest.Get("public/cupcake__rdb/keys_with_mixed_expiry.rdb");

            var result = await RdbDigest.ComputeAsync(fixture.FullPath, new DateTimeOffset(2036, 1, 1, 0, 0, 0, TimeSpan.Zero));

            Assert.Equal("cb347cf8c8a81cbd70f19bc2ebce7fb5603513b7", result.Digest);
            Assert.Equal(2, result.Keys);
        }

        [Fact]
        public async Task Digest_OfModuleOrFieldExpiryValue_IsUnknownWithAReason()
        {
            var cases = FixtureManifest.Cases.Where(c => c.Kind == "rdb" && c.ExpectValid && c.NativeLoad.Contains("module type")).ToList();
            Assert.NotEmpty(cases);
            foreach (var fixture in cases)
            {
                var result = await RdbDigest.ComputeAsync(fixture.FullPath);
                Assert.Null(result.Digest);
                Assert.Contains("module", result.UnknownReason);
            }
        }

        [Theory]
        [InlineData(0.1, "0.10000000000000001")]
        [InlineData(1e20, "1e+20")]
        [InlineData(1.5e-7, "1.4999999999999999e-07")]
        [InlineData(-2.5, "-2.5")]
        [InlineData(1.0 / 3, "0.33333333333333331")]
        [InlineData(1e16, "10000000000000000")]
        [InlineData(1e-5, "1.0000000000000001e-05")]
        [InlineData(0.0001, "0.0001")]
        [InlineData(-0.0, "-0")]
        [InlineData(5e-324, "4.9406564584124654e-324")]
        [InlineData(double.MaxValue, "1.7976931348623157e+308")]
        [InlineData(double.PositiveInfinity, "inf")]
        [InlineData(double.NegativeInfinity, "-inf")]
        public void FormatScore_WritesWhatCsPrintfWritesWithPercentPoint17g(double score, string expected) =>
            Assert.Equal(expected, RdbDigestBuilder.FormatScore(score));

        [Fact]
        public async Task Digest_OfEveryTypeAndEncodingSavedByRedis70_EqualsDebugDigest()
        {
            await using var server = await StartServerAsync();
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            // Plain (unpacked) quicklist nodes appear for elements above this threshold.
            await RunAsync(connection, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000");
            await FillEveryTypeAsync(connection);

            await RunAsync(connection, "SAVE");
            var expected = (await connection.ExecuteAsync("DEBUG", "DIGEST")).AsString();
            var path = Path.Combine(server.Directory, "dump.rdb");

            var whole = await RdbDigest.ComputeAsync(path);
            Assert.Null(whole.UnknownReason);
            Assert.Equal(expected, whole.Digest);
            Assert.True(whole.HasFractionalScores);

            // Values above the reader's threshold are walked as they stream from the file.
            using var reader = new RdbReader(File.OpenRead(path), new RdbReaderOptions { SourceName = path, LargeValueThreshold = 1024 });
            var streamed = await RdbDigest.ComputeAsync(reader, entry => entry.Database, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), default);
            Assert.Equal(expected, streamed.Digest);
        }

        [Fact]
        public async Task Digest_OfNegativeZeroScores_FollowsTheEncodingTheServerLoadsThemInto()
        {
            // A skiplist-typed sorted set with -0 scores (RDB 11, binary doubles): small, Redis 7.0 turns it into a
            // listpack and writes -0 as "0"; the same set past 128 members stays a skiplist and keeps "-0".
            var fixture = FixtureManifest.Get("public/redis__librdb/plain_zset_2_v11.rdb");
            await using var server = await StartServerAsync();
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            using (var reader = new RdbReader(File.OpenRead(fixture.FullPath), new RdbReaderOptions { SourceName = fixture.FullPath }))
            {
                while (await reader.ReadEntryAsync() is RdbEntry entry)
                {
                    var payload = RdbDumpPayload.Create(entry, 10);
                    await RunAsync(connection, "RESTORE", entry.Key, 0, payload);
                }
            }

            Assert.Equal((await connection.ExecuteAsync("DEBUG", "DIGEST")).AsString(), (await RdbDigest.ComputeAsync(fixture.FullPath)).Digest);

            await RunAsync(connection, "FLUSHALL");
            await RunAsync(connection, "ZADD", new RedisArgument[] { "large" }.Concat(Enumerable.Range(0, 200).SelectMany(n => new RedisArgument[] { n, "m" + n })).ToArray());
            await RunAsync(connection, "ZADD", "large", "-0.0", "negative-zero");
            Assert.Equal("-0", (await connection.ExecuteAsync("ZSCORE", "large", "negative-zero")).AsString());
            await RunAsync(connection, "SAVE");
            var large = await RdbDigest.ComputeAsync(Path.Combine(server.Directory, "dump.rdb"));
            Assert.Equal((await connection.ExecuteAsync("DEBUG", "DIGEST")).AsString(), large.Digest);
        }

        [Fact]
        public async Task Digest_DiffersWhenOneListItemMovesOrOneScoreChanges()
        {
            await using var server = await StartServerAsync();
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            var path = Path.Combine(server.Directory, "dump.rdb");
            var digests = new List<string?>();
            foreach (var (items, score) in new[] { (new[] { "a", "b" }, "1.5"), (new[] { "b", "a" }, "1.5"), (new[] { "a", "b" }, "1.25") })
            {
                await connection.ExecuteAsync("FLUSHALL");
                await connection.ExecuteAsync("RPUSH", "list", items[0], items[1]);
                await connection.ExecuteAsync("ZADD", "zset", score, "m");
                await connection.ExecuteAsync("SAVE");
                var ours = await RdbDigest.ComputeAsync(path);
                Assert.Equal((await connection.ExecuteAsync("DEBUG", "DIGEST")).AsString(), ours.Digest);
                digests.Add(ours.Digest);
            }

            Assert.Equal(3, digests.Distinct().Count());
        }

        private Task<RedisServerProcess> StartServerAsync()
        {
            var options = new RedisServerOptions { Output = _output };
            options.Arguments.AddRange(new[] { "--enable-debug-command", "yes", "--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb" });
            return RedisServerProcess.StartAsync(options);
        }

        private static async Task RunAsync(RedisConnection connection, string command, params RedisArgument[] arguments)
        {
            var reply = await connection.ExecuteAsync(command, arguments);
            Assert.False(reply.IsError, $"{command}: {reply.AsString()}");
        }

        private static async Task FillEveryTypeAsync(RedisConnection connection)
        {
            Task Run(string command, params RedisArgument[] arguments) => RunAsync(connection, command, arguments);
            var big = new string('x', 20_000);
            var random = new Random(7);
            string Noise(int length) => new string(Enumerable.Range(0, length).Select(_ => (char)random.Next(33, 127)).ToArray());

            // Strings: integer, short, long compressible, incompressible, binary, empty; with and without TTL.
            await Run("SET", "s:int", "12345");
            await Run("SET", "s:negative", "-9223372036854775808");
            await Run("SET", "s:short", "hello");
            await Run("SET", "s:compressible", big);
            await Run("SET", "s:noise", Noise(5000));
            await Run("SET", "s:binary", new byte[] { 0, 13, 10, 255, 1 });
            await Run("SET", "", "empty key");
            await Run("SET", "s:empty", "");
            await Run("SET", "s:ttl", "v", "PXAT", "4102444800123");

            // Lists: one listpack, a quicklist of many nodes, plain nodes, integers.
            await Run("RPUSH", "l:small", "a", "1", "-7", "b");
            for (var i = 0; i < 20; i++)
            {
                await Run("RPUSH", new RedisArgument[] { "l:quicklist" }.Concat(Enumerable.Range(i * 100, 100).Select(n => (RedisArgument)("item" + n))).ToArray());
            }
            await Run("RPUSH", "l:plain", "before", big, "after", Noise(3000));
            await Run("EXPIREAT", "l:plain", "4102444800");

            // Sets: intset 16/32/64 bit, hashtable.
            await Run("SADD", "set:i16", "1", "2", "300");
            await Run("SADD", "set:i32", "1", "70000", "-70000");
            await Run("SADD", "set:i64", "1", "5000000000", "-9223372036854775808");
            await Run("SADD", "set:strings", "x", "y", "z");
            await Run("SADD", new RedisArgument[] { "set:large" }.Concat(Enumerable.Range(0, 600).Select(n => (RedisArgument)n.ToString())).ToArray());

            // Sorted sets: listpack and skiplist, fractional, huge, infinite and negative scores, integer members.
            await Run("ZADD", "z:small", "1", "one", "0.1", "tenth", "-inf", "low", "+inf", "high", "1e20", "huge", "3", "42");
            await Run("ZADD", new RedisArgument[] { "z:large" }.Concat(Enumerable.Range(0, 300).SelectMany(n => new RedisArgument[] { (n / 7.0).ToString("R", System.Globalization.CultureInfo.InvariantCulture), "m" + n })).ToArray());
            await Run("ZADD", "z:long-member", "2.5", big);

            // Hashes: listpack and hashtable, integer fields and values.
            await Run("HSET", "h:small", "f1", "v1", "2", "3", "empty", "");
            await Run("HSET", new RedisArgument[] { "h:large" }.Concat(Enumerable.Range(0, 600).SelectMany(n => new RedisArgument[] { "field" + n, n.ToString() })).ToArray());
            await Run("HSET", "h:long-value", "f", big);
            await Run("PEXPIREAT", "h:small", "4102444800999");

            // Streams: several nodes, deleted entries, different field sets, groups with pending entries.
            for (var i = 1; i <= 250; i++)
            {
                await Run("XADD", "st", $"{i}-{i % 3}", "field", "value" + i, "n", i.ToString());
            }
            await Run("XADD", "st", "300-0", "other", "fields");
            await Run("XDEL", "st", "5-2", "100-1");
            await Run("XGROUP", "CREATE", "st", "g1", "0");
            await Run("XGROUP", "CREATE", "st", "g2", "$", "ENTRIESREAD", "3");
            await Run("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "10", "STREAMS", "st", ">");
            await Run("XGROUP", "CREATECONSUMER", "st", "g1", "bob");
            await Run("XADD", "st:emptied", "1-1", "a", "b");
            await Run("XDEL", "st:emptied", "1-1");

            // Other databases, including a repeated key name.
            await Run("SELECT", "3");
            await Run("SET", "s:int", "12345");
            await Run("RPUSH", "l:small", "x");
            await Run("SELECT", "15");
            await Run("HSET", "h", "a", "b");
            await Run("SELECT", "0");
        }
    }
}
