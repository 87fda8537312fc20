using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Resp;
using RedisRecovery.Restore;
using RedisRecovery.Tests.Aof;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Restore
{
    /// <summary>Conflict policies, flushing, database mapping, filters, journal resume and point-in-time AOF restores, against real servers.</summary>
    public sealed partial class RestoreBehaviourTests
    {
        private readonly ITestOutputHelper _output;

        public RestoreBehaviourTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public async Task Fail_IntoNonEmptyTarget_WritesNothingAndSaysSo()
        {
            using var source = await SnapshotAsync("SET a 1", "SET b source");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            await RunAsync(target, "SET b target", "SET only-in-target x");

            var result = await RedisRestorer.RestoreAsync(RestoreTestKit.Options(source.Path, target));

            Assert.False(result.Completed);
            Assert.True(result.WroteNothing);
            Assert.Contains("nothing was written", result.StopReason);
            Assert.Equal(0, result.KeysRestored);
            Assert.Equal(new Dictionary<int, long> { [0] = 2 }, await RestoreTestKit.KeyspaceAsync(target));
            Assert.Equal("target", await GetAsync(target, "b"));
        }

        [Fact]
        public async Task FailWithForce_WritesNewKeys_AndReportsTheExistingOnesAsFailed()
        {
            using var source = await SnapshotAsync("SET a 1", "SET b source");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            await RunAsync(target, "SET b target");

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { Force = true });

            Assert.True(result.Completed);
            Assert.Equal(1, result.KeysRestored);
            Assert.Equal("b", Assert.Single(result.KeysFailed).Key);
            Assert.False(result.Verified);
            Assert.Equal("target", await GetAsync(target, "b"));
        }

        [Fact]
        public async Task Skip_KeepsTheTargetsKeys_AndCountsThemAsConflicts()
        {
            using var source = await SnapshotAsync("SET a 1", "SET b source", "RPUSH c x y");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            await RunAsync(target, "SET b target");

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { KeyConflict = KeyConflictPolicy.Skip });

            _output.WriteLine(RestoreTestKit.Describe(result));
            Assert.Equal(2, result.KeysRestored);
            Assert.Equal(1, result.KeysSkipped.Conflict);
            Assert.Equal(0, result.KeysFailedCount);
            Assert.Equal("target", await GetAsync(target, "b"));
            Assert.Equal(new Dictionary<int, long> { [0] = 3 }, await RestoreTestKit.KeyspaceAsync(target));
        }

        [Fact]
        public async Task Replace_OverwritesTheTargetsKeys()
        {
            using var source = await SnapshotAsync("SET a 1", "SET b source");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            await RunAsync(target, "SET b target", "SET keep x");

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { KeyConflict = KeyConflictPolicy.Replace });

            Assert.Equal(2, result.KeysRestored);
            Assert.Equal("source", await GetAsync(target, "b"));
            Assert.Equal("x", await GetAsync(target, "keep"));
            Assert.Null(result.Verified);
            Assert.Contains("not compared", result.VerificationDetail);
        }

        [Fact]
        public async Task FlushTarget_EmptiesTheTargetFirst_ThenVerifiesExactly()
        {
            using var source = await SnapshotAsync("SET a 1", "SET b source");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            await RunAsync(target, "SET b target", "SET gone x", "SELECT 4", "SET gone-too y");

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { FlushTarget = true });

            Assert.True(result.Verified, result.VerificationDetail);
            Assert.NotNull(result.TargetDigest);
            Assert.Equal(new Dictionary<int, long> { [0] = 2 }, await RestoreTestKit.KeyspaceAsync(target));
        }

        [Fact]
        public async Task DatabaseMapping_AndKeyPattern_RestoreOnlyWhatIsAsked_WhereItIsAsked()
        {
            using var source = await SnapshotAsync(
                "SET user:1 a", "SET order:1 b",
                "SELECT 3", "SET user:2 c", "SET user:3 d", "HSET order:2 f v");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target)
            {
                Database = 3,
                TargetDatabase = 5,
                KeyPattern = "user:[0-9]*",
            });

            Assert.True(result.Verified, result.VerificationDetail);
            Assert.Equal(2, result.KeysRestored);
            Assert.Equal(3, result.KeysSkipped.Filtered);
            Assert.Equal(new Dictionary<int, long> { [5] = 2 }, await RestoreTestKit.KeyspaceAsync(target));
            Assert.Equal("c", await GetAsync(target, "user:2", database: 5));
        }

        [Fact]
        public async Task ExpiredKeys_AreSkippedAndCounted_LiveTtlsAreKept()
        {
            var now = DateTimeOffset.UtcNow;
            using var source = await SnapshotAsync(
                $"SET soon 1 PXAT {now.ToUnixTimeMilliseconds() + 60_000}",
                $"SET later 2 PXAT {now.ToUnixTimeMilliseconds() + 3_600_000}",
                "SET forever 3");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            // Judged two minutes on, "soon" has expired: it must not be written.
            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { Now = now.AddMinutes(2) });

            Assert.Equal(1, result.KeysSkipped.Expired);
            Assert.Equal(2, result.KeysRestored);
            await using var connection = await RestoreTestKit.ConnectAsync(target);
            Assert.Equal(0, (await connection.ExecuteAsync("EXISTS", "soon")).Integer);
            var ttl = (await connection.ExecuteAsync("PEXPIRETIME", "later")).Integer;
            Assert.Equal(now.ToUnixTimeMilliseconds() + 3_600_000, ttl);
            Assert.Equal(-1, (await connection.ExecuteAsync("PEXPIRETIME", "forever")).Integer);
        }

        /// <summary>Kills the restore's connection (like a network drop) once the target holds <paramref name="keys"/> keys.</summary>
        private static async Task KillConnectionsOnceTargetHoldsAsync(RedisServerProcess target, Task restore, long keys)
        {
            await using var killer = await RestoreTestKit.ConnectAsync(target);
            while ((await RestoreTestKit.KeyspaceAsync(target)).Values.Sum() < keys)
            {
                await Task.Delay(20);
            }
            Assert.False(restore.IsCompleted, "the throttled restore finished before it could be interrupted");
            await killer.ExecuteAsync("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        }

        [Fact]
        public async Task Journal_AfterTheConnectionIsKilledMidway_ResumesAndFinishes()
        {
            const int keys = 20_000;
            using var source = await SnapshotAsync($"DEBUG POPULATE {keys} key 64");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            var journal = Path.Combine(source.Directory, "restore.journal");
            var options = new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target)
            {
                JournalPath = journal,
                MaxOpsPerSecond = 4_000,
                ExpectedDigest = source.Digest,
            };

            var restore = RedisRestorer.RestoreAsync(options);
            await KillConnectionsOnceTargetHoldsAsync(target, restore, keys / 2);
            var interrupted = await Assert.ThrowsAsync<RestoreInterruptedException>(() => restore);
            Assert.Contains("-Journal", interrupted.Message);
            Assert.InRange(interrupted.PartialResult.KeysRestored, 1, keys - 1);
            Assert.Contains("state=in-progress", File.ReadAllText(journal));

            var resumed = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, options.Target)
            {
                JournalPath = journal,
                ExpectedDigest = source.Digest,
            });

            _output.WriteLine(RestoreTestKit.Describe(resumed));
            Assert.True(resumed.Completed);
            Assert.True(resumed.Verified, resumed.VerificationDetail);
            Assert.Equal(source.Digest, resumed.TargetDigest);
            Assert.NotNull(resumed.ResumedFromOffset);
            Assert.True(resumed.ResumedFromOffset > 0);
            Assert.Equal(0, resumed.KeysFailedCount);
            Assert.Equal(keys, (await RestoreTestKit.KeyspaceAsync(target))[0]);
            Assert.Equal(source.Digest, await RestoreTestKit.DigestAsync(target));
            Assert.Contains("state=completed", File.ReadAllText(journal));
        }

        [Fact]
        public async Task Journal_OfAnAofReplay_ResumesAfterTheLastCheckpoint_WithoutReplayingTwice()
        {
            const int commands = 12_000;
            using var temp = new TempFile();
            var parts = new List<byte[]> { AofTestKit.Command("SELECT", "0") };
            for (var i = 0; i < commands; i++)
            {
                // INCR makes a replay that applies a command twice visible in the counter's value.
                parts.Add(i % 2 == 0 ? AofTestKit.Command("SET", $"key:{i}", "v") : AofTestKit.Command("INCR", "counter"));
            }
            File.WriteAllBytes(temp.Path, AofTestKit.Concat(parts));
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            var journal = temp.Path + ".journal";
            var options = new RestoreOptions(temp.Path, RestoreTestKit.Options(temp.Path, target).Target) { JournalPath = journal, MaxOpsPerSecond = 4_000 };

            var restore = RedisRestorer.RestoreAsync(options);
            await KillConnectionsOnceTargetHoldsAsync(target, restore, commands / 4);
            await Assert.ThrowsAsync<RestoreInterruptedException>(() => restore);
            var resumed = await RedisRestorer.RestoreAsync(new RestoreOptions(temp.Path, options.Target) { JournalPath = journal });

            Assert.True(resumed.Completed);
            Assert.True(resumed.ResumedFromOffset > 0);
            Assert.Equal(0, resumed.CommandsFailed);
            Assert.Equal(commands / 2 + 1, (await RestoreTestKit.KeyspaceAsync(target))[0]);
            // The journal holds the last command the server confirmed: only replies lost in flight may be applied twice.
            var counter = long.Parse(await GetAsync(target, "counter") ?? "0");
            Assert.InRange(counter, commands / 2, commands / 2 + 64);
        }

        [Fact]
        public async Task Journal_OfACopyOfABackup_ResumesFromANewCopyOfTheSameBackup_AndTheResultNamesTheBackup()
        {
            // A restore from S3 (or of an encrypted file) reads a verified temporary copy, made again on every run.
            const int keys = 20_000;
            using var source = await SnapshotAsync($"DEBUG POPULATE {keys} key 64");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            var origin = new RestoreSourceOrigin("s3://backups/nightly/cache-6379_20261205T020000Z.rdb",
                Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(source.Path))));
            var journal = Path.Combine(source.Directory, "restore.journal");
            var firstCopy = Path.Combine(source.Directory, "copy-1.rdb");
            File.Copy(source.Path, firstCopy);
            var connection = RestoreTestKit.Options(source.Path, target).Target;

            var restore = RedisRestorer.RestoreAsync(new RestoreOptions(firstCopy, connection) { Origin = origin, JournalPath = journal, MaxOpsPerSecond = 4_000 });
            await KillConnectionsOnceTargetHoldsAsync(target, restore, keys / 2);
            var interrupted = await Assert.ThrowsAsync<RestoreInterruptedException>(() => restore);
            Assert.Equal(origin.Name, interrupted.PartialResult.Source);
            File.Delete(firstCopy);
            var secondCopy = Path.Combine(source.Directory, "copy-2.rdb");
            File.Copy(source.Path, secondCopy);

            // Named by its temporary path, the new copy would be another source.
            var refused = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                RedisRestorer.RestoreAsync(new RestoreOptions(secondCopy, connection) { JournalPath = journal }));
            Assert.Equal(RestoreErrorIds.JournalMismatch, refused.ErrorId);
            var resumed = await RedisRestorer.RestoreAsync(new RestoreOptions(secondCopy, connection) { Origin = origin, JournalPath = journal });

            _output.WriteLine(RestoreTestKit.Describe(resumed));
            Assert.Equal(origin.Name, resumed.Source);
            Assert.True(resumed.Completed);
            Assert.True(resumed.ResumedFromOffset > 0);
            Assert.True(resumed.Verified, resumed.VerificationDetail);
            Assert.Equal(source.Digest, await RestoreTestKit.DigestAsync(target));
        }

        [Fact]
        public async Task Journal_OfAnotherSource_IsRefused()
        {
            using var first = await SnapshotAsync("SET a 1");
            using var second = await SnapshotAsync("SET b 2");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            var journal = Path.Combine(first.Directory, "restore.journal");
            File.WriteAllText(journal, $"format=RedisRecovery.RestoreJournal/1\nstate=in-progress\nsource=elsewhere|1|1\ntarget={target.Endpoint}\npart=0\noffset=10\n");

            var refused = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                RedisRestorer.RestoreAsync(new RestoreOptions(second.Path, RestoreTestKit.Options(second.Path, target).Target) { JournalPath = journal }));

            Assert.Equal(RestoreErrorIds.JournalMismatch, refused.ErrorId);
            Assert.Empty(await RestoreTestKit.KeyspaceAsync(target));
        }

        [Fact]
        public async Task Cancellation_StopsCleanly_WithHowFarItGot()
        {
            const int keys = 40_000;
            using var source = await SnapshotAsync($"DEBUG POPULATE {keys} key 16");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(1));

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { MaxOpsPerSecond = 10_000 },
                cancellationToken: cancellation.Token);

            Assert.False(result.Completed);
            Assert.Contains("Cancelled", result.StopReason);
            Assert.InRange(result.KeysRestored, 1, keys - 1);
            Assert.InRange((await RestoreTestKit.KeyspaceAsync(target))[0], result.KeysRestored, keys - 1);
        }

        [Fact]
        public async Task Aof_WithAnAccidentalFlushAll_RestoresThePointBeforeIt()
        {
            var directory = RedisServerProcess.CreateTempDirectory();
            try
            {
                var options = new RedisServerOptions { Output = _output, Directory = directory };
                options.Arguments.AddRange(new[] { "--appendonly", "yes", "--aof-use-rdb-preamble", "no" });
                string digestBeforeFlush;
                await using (var source = await RedisServerProcess.StartAsync(options))
                {
                    await RunAsync(source, "SET a 1", "RPUSH list x y", "SELECT 2", "HSET h f v",
                        "MULTI", "INCR counter", "SADD s m", "EXEC");
                    digestBeforeFlush = (await RestoreTestKit.DigestAsync(source))!;
                    await RunAsync(source, "FLUSHALL", "SET after-the-accident 1");
                }
                var aofDirectory = Path.Combine(directory, "appendonlydir");
                var before = Directory.GetFiles(aofDirectory).ToDictionary(f => f, File.ReadAllBytes);
                await using var target = await RestoreTestKit.StartTargetAsync(_output);

                var result = await RedisRestorer.RestoreAsync(new RestoreOptions(aofDirectory, RestoreTestKit.Options(aofDirectory, target).Target)
                {
                    BeforeCommand = "FLUSHALL",
                    ExpectedDigest = digestBeforeFlush,
                });

                _output.WriteLine(RestoreTestKit.Describe(result));
                Assert.True(result.Verified, result.VerificationDetail);
                Assert.Equal(new Dictionary<int, long> { [0] = 2, [2] = 3 }, await RestoreTestKit.KeyspaceAsync(target));
                Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllBytes(file.Key)));
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        [Fact]
        public async Task Aof_ToTimestamp_AppliesOnlyWhatWasWrittenByThen()
        {
            using var temp = new TempFile();
            File.WriteAllBytes(temp.Path, AofTestKit.Concat(new[]
            {
                AofTestKit.Timestamp(1700000000), AofTestKit.Command("SET", "early", "1"),
                AofTestKit.Timestamp(1700000100), AofTestKit.Command("SET", "middle", "2"),
                AofTestKit.Command("MULTI"), AofTestKit.Command("SET", "in-tx", "3"), AofTestKit.Command("EXEC"),
                AofTestKit.Timestamp(1700000200), AofTestKit.Command("SET", "late", "4"),
            }));
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var result = await RedisRestorer.RestoreAsync(new RestoreOptions(temp.Path, RestoreTestKit.Options(temp.Path, target).Target)
            {
                ToTimestamp = DateTimeOffset.FromUnixTimeSeconds(1700000150),
            });

            Assert.Equal(5, result.CommandsReplayed);
            Assert.Equal(new Dictionary<int, long> { [0] = 3 }, await RestoreTestKit.KeyspaceAsync(target));
            Assert.Null(await GetAsync(target, "late"));
        }

        [Fact]
        public async Task FunctionLibraries_OfTheSource_AreLoadedIntoTheTarget()
        {
            var fixture = FixtureManifest.Get("public/redis__librdb/function2.rdb");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var result = await RedisRestorer.RestoreAsync(RestoreTestKit.Options(fixture.FullPath, target));

            Assert.Equal(2, result.FunctionLibrariesRestored);
            await using var connection = await RestoreTestKit.ConnectAsync(target);
            var libraries = (await connection.ExecuteAsync("FUNCTION", "LIST")).Items
                .SelectMany(library => library.AsPairs().Where(p => p.Key.AsString() == "library_name").Select(p => p.Value.AsString()))
                .OrderBy(name => name)
                .ToList();
            Assert.Equal(new[] { "mylib", "mylib2" }, libraries);
        }

        [Fact]
        public async Task Rdb_WithToTimestamp_IsMisuse()
        {
            using var source = await SnapshotAsync("SET a 1");
            await using var target = await RestoreTestKit.StartTargetAsync(_output);

            var misuse = await Assert.ThrowsAsync<RedisRecoveryException>(() => RedisRestorer.RestoreAsync(
                new RestoreOptions(source.Path, RestoreTestKit.Options(source.Path, target).Target) { ToTimestamp = DateTimeOffset.UtcNow }));

            Assert.Equal(RestoreErrorIds.InvalidOptions, misuse.ErrorId);
            Assert.Equal(FailureKind.InvalidArgument, misuse.Kind);
        }

        [Theory]
        [InlineData("user:*", "user:1", true)]
        [InlineData("user:*", "order:1", false)]
        [InlineData("h?llo", "hallo", true)]
        [InlineData("h[^e]llo", "hello", false)]
        [InlineData("h[a-b]llo", "hbllo", true)]
        [InlineData("a\\*b", "a*b", true)]
        [InlineData("a\\*b", "axb", false)]
        [InlineData("*", "", true)]
        public void KeyGlob_MatchesLikeRedis(string pattern, string key, bool expected) =>
            Assert.Equal(expected, new KeyGlob(pattern).IsMatch(Encoding.UTF8.GetBytes(key)));

        /// <summary>An RDB written by a real server after running <paramref name="commands"/> (space-separated words).</summary>
        private async Task<Snapshot> SnapshotAsync(params string[] commands)
        {
            var directory = RedisServerProcess.CreateTempDirectory();
            var options = new RedisServerOptions { Output = _output, Directory = directory };
            options.Arguments.AddRange(new[] { "--dbfilename", "dump.rdb" });
            await using var server = await RedisServerProcess.StartAsync(options);
            await RunAsync(server, commands);
            await RunAsync(server, "SAVE");
            return new Snapshot(directory, Path.Combine(directory, "dump.rdb"), (await RestoreTestKit.DigestAsync(server))!);
        }

        private static async Task RunAsync(RedisServerProcess server, params string[] commands)
        {
            await using var connection = await RestoreTestKit.ConnectAsync(server);
            foreach (var command in commands)
            {
                var words = command.Split(' ');
                var reply = await connection.ExecuteAsync(new RedisCommand(words[0], words.Skip(1).Select(w => (RedisArgument)w)));
                Assert.False(reply.IsError, reply.AsString());
            }
        }

        private static async Task<string?> GetAsync(RedisServerProcess server, string key, int database = 0)
        {
            await using var connection = await RestoreTestKit.ConnectAsync(server, database);
            return (await connection.ExecuteAsync("GET", key)).AsString();
        }

        private sealed class Snapshot : IDisposable
        {
            public Snapshot(string directory, string path, string digest)
            {
                Directory = directory;
                Path = path;
                Digest = digest;
            }

            public string Directory { get; }

            public string Path { get; }

            public string Digest { get; }

            public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
        }

        private sealed class TempFile : IDisposable
        {
            public string Path { get; } = System.IO.Path.Combine(RedisServerProcess.CreateTempDirectory(), "appendonly.aof");

            public void Dispose() => System.IO.Directory.Delete(System.IO.Path.GetDirectoryName(Path)!, recursive: true);
        }

    }
}
