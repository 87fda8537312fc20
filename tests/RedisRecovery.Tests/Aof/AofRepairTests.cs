using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Aof;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Aof
{
    public sealed class AofRepairTests
    {
        private readonly ITestOutputHelper _output;

        public AofRepairTests(ITestOutputHelper output) => _output = output;

        [Theory]
        [InlineData("yes")]
        [InlineData("no")]
        public async Task BeforeFlushAll_OnACopy_GivesBackTheDataWrittenBeforeTheAccident(string rdbPreamble)
        {
            using var temp = AofTestKit.NewTempDirectory();
            var serverDirectory = Directory.CreateDirectory(Path.Combine(temp.Path, "live")).FullName;
            var options = new RedisServerOptions { Directory = serverDirectory, Output = _output };
            // appendfsync always: with everysec a busy disk lets Redis postpone its write() past the reply, and the
            // kill below would lose the FLUSHALL this test looks for.
            options.Arguments.AddRange(new[] { "--appendonly", "yes", "--aof-timestamp-enabled", "yes", "--aof-use-rdb-preamble", rdbPreamble, "--appendfsync", "always" });
            using (var live = await RedisServerProcess.StartAsync(options))
            {
                await using var connection = await AofTestKit.ConnectAsync(live);
                for (var i = 0; i < 50; i++)
                {
                    await connection.ExecuteAsync("SET", $"before:{i}", $"value {i}");
                }
                await connection.ExecuteAsync("FLUSHALL");
                for (var i = 0; i < 10; i++)
                {
                    await connection.ExecuteAsync("SET", $"after:{i}", "x");
                }
                live.Kill();
            }
            var original = Path.Combine(serverDirectory, "appendonlydir");
            var plan = await AofRepairer.PlanAsync(original, new AofRepairRequest { BeforeCommand = "flushall" });
            Assert.Equal(AofRepairAction.CutBeforeCommand, plan.Action);
            Assert.Equal(50, plan.CommandsKept - 1); // the SELECT Redis writes first
            Assert.Equal(11, plan.CommandsRemoved);
            Assert.StartsWith("SET (", plan.LastCommandKept);
            var destination = Path.Combine(temp.Path, "rescued", "appendonlydir");

            var rescued = await AofRepairer.ApplyToCopyAsync(plan, destination);

            Assert.Equal(destination, rescued.OutputPath);
            Assert.Equal(1, (await AofChecker.CheckAsync(original)).CommandCounts["FLUSHALL"]);
            using var server = await AofTestKit.StartOnAofDirectoryAsync(destination);
            await using var check = await AofTestKit.ConnectAsync(server);
            Assert.Equal(50, (await check.ExecuteAsync("DBSIZE")).Integer);
            Assert.Equal("value 7", (await check.ExecuteAsync("GET", "before:7")).AsString());
            Assert.True((await check.ExecuteAsync("GET", "after:1")).IsNull);
        }

        [Fact]
        public async Task BeforeFlushAll_After_SkipsAnEarlierFlushAll()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var path = Path.Combine(temp.Path, "two-flushes.aof");
            File.WriteAllBytes(path, AofTestKit.Concat(new[]
            {
                AofTestKit.Timestamp(1700000000), AofTestKit.Command("FLUSHALL"), AofTestKit.Command("SET", "a", "1"),
                AofTestKit.Timestamp(1700000100), AofTestKit.Command("SET", "b", "2"), AofTestKit.Command("FLUSHALL"), AofTestKit.Command("SET", "c", "3"),
            }));

            var plan = await AofRepairer.PlanAsync(path, new AofRepairRequest { BeforeCommand = "FLUSHALL", After = DateTimeOffset.FromUnixTimeSeconds(1700000050) });

            Assert.Equal(3, plan.CommandsKept);
            Assert.Equal(2, plan.CommandsRemoved);
            Assert.Equal(new FileInfo(path).Length - AofTestKit.Command("FLUSHALL").Length - AofTestKit.Command("SET", "c", "3").Length, plan.CutOffset);
        }

        [Fact]
        public async Task BeforeFlushAll_AtTheVeryStart_NeedsForce_AndTimeCutsNeedAnnotations()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var path = Path.Combine(temp.Path, "flush-first.aof");
            File.WriteAllBytes(path, AofTestKit.Concat(new[] { AofTestKit.Command("FLUSHALL"), AofTestKit.Command("SET", "a", "1") }));

            var plan = await AofRepairer.PlanAsync(path, new AofRepairRequest { BeforeCommand = "FLUSHALL" });

            Assert.Equal(0, plan.CutOffset);
            Assert.True(plan.RequiresForce);
            var noAnnotations = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                AofRepairer.PlanAsync(path, new AofRepairRequest { BeforeCommand = "FLUSHALL", After = DateTimeOffset.UtcNow }));
            Assert.Equal("AofHasNoTimestamps", noAnnotations.ErrorId);
        }

        [Theory]
        [InlineData(1700000004)]
        [InlineData(1700000005)]
        [InlineData(1700000008)]
        public async Task ToTimestamp_CutsWhereRedisCheckAofTruncateToTimestampCuts(long unixSeconds)
        {
            using var temp = AofTestKit.NewTempDirectory();
            var sample = AofTestKit.Concat(new[]
            {
                AofTestKit.Timestamp(1700000000), AofTestKit.Command("SET", "a", "1"), AofTestKit.Command("SET", "b", "2"),
                AofTestKit.Timestamp(1700000005), AofTestKit.Command("SET", "c", "3"),
                AofTestKit.Timestamp(1700000009), AofTestKit.Command("SET", "d", "4"), AofTestKit.Command("DEL", "a"),
            });
            var ours = Path.Combine(temp.Path, "ours.aof");
            var theirs = Path.Combine(temp.Path, "theirs.aof");
            File.WriteAllBytes(ours, sample);
            File.WriteAllBytes(theirs, sample);
            AofTestKit.Run("redis-check-aof", "--truncate-to-timestamp", unixSeconds.ToString(), theirs);

            var plan = await AofRepairer.PlanAsync(ours, new AofRepairRequest { ToTimestamp = DateTimeOffset.FromUnixTimeSeconds(unixSeconds) });
            var copy = await AofRepairer.ApplyToCopyAsync(plan, Path.Combine(temp.Path, "point-in-time", "cut.aof")); // a new directory is created

            Assert.Equal(AofRepairAction.CutToTimestamp, plan.Action);
            Assert.Equal(File.ReadAllBytes(theirs), File.ReadAllBytes(copy.OutputPath));
            Assert.Equal(sample, File.ReadAllBytes(ours));
        }

        [Fact]
        public async Task ToTimestamp_MultiPartInPlace_CutsTheLastIncrementalFileLikeRedisCheckAof()
        {
            var fixture = FixtureManifest.Get("generated/aof-preamble-yes/appendonlydir");
            using var temp = AofTestKit.NewTempDirectory();
            var ours = AofTestKit.CopyFixture(fixture.FullPath, Directory.CreateDirectory(Path.Combine(temp.Path, "ours")).FullName);
            var theirs = AofTestKit.CopyFixture(fixture.FullPath, Directory.CreateDirectory(Path.Combine(temp.Path, "theirs")).FullName);
            var check = await AofChecker.CheckAsync(ours);
            Assert.True(check.LastTimestampUtc > check.FirstTimestampUtc, "the fixture spans more than one second");
            var cutTime = new DateTimeOffset(check.FirstTimestampUtc!.Value, TimeSpan.Zero);
            AofTestKit.Run("redis-check-aof", "--truncate-to-timestamp", cutTime.ToUnixTimeSeconds().ToString(), AofTestKit.ManifestOf(theirs));

            var plan = await AofRepairer.PlanAsync(ours, new AofRepairRequest { ToTimestamp = cutTime });
            var result = await AofRepairer.ApplyInPlaceAsync(plan, Path.Combine(temp.Path, "backup"));

            Assert.Equal(AofRepairAction.CutToTimestamp, plan.Action);
            Assert.True(plan.CommandsRemoved > 0);
            foreach (var file in Directory.GetFiles(theirs))
            {
                Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(ours, Path.GetFileName(file))));
            }
            Assert.Equal(AofStatus.Valid, (await AofChecker.CheckAsync(ours)).Status);
            Assert.True(File.Exists(Path.Combine(result.BackupPath!, plan.CutFile!)));
        }

        [Fact]
        public async Task InPlace_TruncatedTail_CutsLikeRedisCheckAofFix_AndKeepsTheOriginal()
        {
            var fixture = FixtureManifest.Get("generated/aof-truncated-tail/appendonlydir");
            using var temp = AofTestKit.NewTempDirectory();
            var ours = AofTestKit.CopyFixture(fixture.FullPath, Directory.CreateDirectory(Path.Combine(temp.Path, "ours")).FullName);
            var theirs = AofTestKit.CopyFixture(fixture.FullPath, Directory.CreateDirectory(Path.Combine(temp.Path, "theirs")).FullName);
            AofTestKit.RunWithInput("redis-check-aof", "y\n", "--fix", AofTestKit.ManifestOf(theirs));
            var incremental = Path.GetFileName(Directory.GetFiles(ours, "*.incr.aof").Single());
            var originalBytes = File.ReadAllBytes(Path.Combine(ours, incremental));

            var plan = await AofRepairer.PlanAsync(ours, new AofRepairRequest());
            var result = await AofRepairer.ApplyInPlaceAsync(plan, backupDirectory: null);

            Assert.Equal(AofRepairAction.CutTruncatedTail, plan.Action);
            Assert.False(plan.RequiresForce);
            Assert.Equal(originalBytes.Length - plan.CutOffset, plan.BytesRemoved);
            Assert.Equal(File.ReadAllBytes(Path.Combine(theirs, incremental)), File.ReadAllBytes(Path.Combine(ours, incremental)));
            Assert.Equal(File.ReadAllText(AofTestKit.ManifestOf(theirs)), File.ReadAllText(AofTestKit.ManifestOf(ours)));
            Assert.Equal(originalBytes, File.ReadAllBytes(Path.Combine(result.BackupPath!, incremental)));
            Assert.Equal(AofStatus.Valid, (await AofChecker.CheckAsync(ours)).Status);
        }

        [Fact]
        public async Task InPlace_DamageInAnEarlierIncrementalFile_DropsLaterFilesAndKeepsTheManifestConsistent()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var directory = Directory.CreateDirectory(Path.Combine(temp.Path, "appendonlydir")).FullName;
            File.WriteAllBytes(Path.Combine(directory, "app.aof.1.base.aof"), AofTestKit.Command("SET", "base", "1"));
            var good = AofTestKit.Concat(new[] { AofTestKit.Command("SET", "k1", "1"), AofTestKit.Command("SET", "k2", "2") });
            File.WriteAllBytes(Path.Combine(directory, "app.aof.1.incr.aof"), AofTestKit.Concat(new[] { good, System.Text.Encoding.ASCII.GetBytes("*2\r\n$3\r\nDEL\r\n%2\r\n"), AofTestKit.Command("SET", "k3", "3") }));
            File.WriteAllBytes(Path.Combine(directory, "app.aof.2.incr.aof"), AofTestKit.Command("SET", "k4", "4"));
            File.WriteAllText(Path.Combine(directory, "app.aof.manifest"),
                "file app.aof.1.base.aof seq 1 type b\nfile app.aof.1.incr.aof seq 1 type i\nfile app.aof.2.incr.aof seq 2 type i\n");
            var backup = Path.Combine(temp.Path, "backup");

            var plan = await AofRepairer.PlanAsync(directory, new AofRepairRequest());
            var result = await AofRepairer.ApplyInPlaceAsync(plan, backup);

            Assert.Equal(AofRepairAction.CutAtCorruption, plan.Action);
            Assert.True(plan.RequiresForce);
            Assert.Equal("app.aof.1.incr.aof", plan.CutFile);
            Assert.Equal(good.Length, plan.CutOffset);
            Assert.Equal(new[] { "app.aof.2.incr.aof" }, plan.FilesDropped);
            Assert.False(File.Exists(Path.Combine(directory, "app.aof.2.incr.aof")));
            Assert.True(File.Exists(Path.Combine(backup, "app.aof.2.incr.aof")));
            Assert.Equal("file app.aof.1.base.aof seq 1 type b\nfile app.aof.1.incr.aof seq 1 type i\n", File.ReadAllText(Path.Combine(directory, "app.aof.manifest")));
            Assert.Equal(AofStatus.Valid, (await AofChecker.CheckAsync(directory)).Status);
            using var server = await AofTestKit.StartOnAofDirectoryAsync(directory);
            await using var check = await AofTestKit.ConnectAsync(server);
            Assert.Equal(3, (await check.ExecuteAsync("DBSIZE")).Integer);
            Assert.Equal(backup, result.BackupPath);
        }

        [Fact]
        public async Task AFailedCopyOrBackup_LeavesNoPartialFileUnderTheFinalName_AndTheOriginalUncut()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var aof = Path.Combine(temp.Path, "appendonly.aof");
            var complete = AofTestKit.Concat(new[] { AofTestKit.Command("SET", "k1", "1"), AofTestKit.Command("FLUSHALL"), AofTestKit.Command("SET", "k2", "2") });
            File.WriteAllBytes(aof, complete.Concat(new byte[] { (byte)'*', (byte)'3' }).ToArray());
            var toCopy = await AofRepairer.PlanAsync(aof, new AofRepairRequest { BeforeCommand = "FLUSHALL" });
            var inPlace = await AofRepairer.PlanAsync(aof, new AofRepairRequest());
            Assert.Equal(AofRepairAction.CutTruncatedTail, inPlace.Action);
            // A server (or another tool) shortens the file between the plan and the repair.
            var shortened = complete.Take(10).ToArray();
            File.WriteAllBytes(aof, shortened);
            var destination = Path.Combine(temp.Path, "copy.aof");
            var backups = Path.Combine(temp.Path, "backups");

            var copyFailure = await Assert.ThrowsAsync<RedisRecoveryException>(() => AofRepairer.ApplyToCopyAsync(toCopy, destination));
            var inPlaceFailure = await Assert.ThrowsAsync<RedisRecoveryException>(() => AofRepairer.ApplyInPlaceAsync(inPlace, backups));

            Assert.Equal("AofChangedWhileRepairing", copyFailure.ErrorId);
            Assert.Equal("AofChangedWhileRepairing", inPlaceFailure.ErrorId);
            Assert.Empty(Directory.GetFiles(temp.Path, "copy.aof*"));
            Assert.Empty(Directory.GetFiles(backups));
            Assert.Equal(shortened, File.ReadAllBytes(aof));
        }

        [Theory]
        [InlineData("file a.aof seq 1 type b", "no newline")]
        [InlineData("file a.aof seq 1 type b\nfile a.aof.1.incr.aof seq 2 type i\nfile a.aof.2.incr.aof seq 2 type i\n", "line 3")]
        [InlineData("file a.aof seq 1 type b\nfile b.aof seq 1 type b\n", "second base")]
        [InlineData("file a.aof seq 1 type x\n", "type must be")]
        [InlineData("file a.aof seq 0 type b\n", "positive")]
        [InlineData("file ../a.aof seq 1 type b\n", "plain file name")]
        [InlineData("file a.aof seq 1\n", "file <name>")]
        [InlineData("# only a comment\n", "lists no file")]
        [InlineData("file a.aof seq 1 type b\nfile missing.aof seq 1 type i\n", "missing.aof")]
        public async Task Check_InvalidManifest_IsReportedWithTheManifestAndTheProblem(string manifest, string problem)
        {
            using var temp = AofTestKit.NewTempDirectory();
            File.WriteAllBytes(Path.Combine(temp.Path, "a.aof"), AofTestKit.Command("SET", "k", "v"));
            File.WriteAllBytes(Path.Combine(temp.Path, "a.aof.1.incr.aof"), Array.Empty<byte>());
            File.WriteAllBytes(Path.Combine(temp.Path, "a.aof.2.incr.aof"), Array.Empty<byte>());
            File.WriteAllText(Path.Combine(temp.Path, "a.aof.manifest"), manifest);

            var result = await AofChecker.CheckAsync(temp.Path);

            Assert.Equal(AofStatus.ManifestInvalid, result.Status);
            Assert.Equal("a.aof.manifest", result.ErrorFile);
            Assert.Contains(problem, result.Error);
            await Assert.ThrowsAsync<AofManifestException>(() => AofRepairer.PlanAsync(temp.Path, new AofRepairRequest()));
        }

        [Fact]
        public async Task Check_ReportsFilesTheManifestDoesNotList()
        {
            using var temp = AofTestKit.NewTempDirectory();
            File.WriteAllBytes(Path.Combine(temp.Path, "a.aof.1.base.aof"), AofTestKit.Command("SET", "k", "v"));
            File.WriteAllBytes(Path.Combine(temp.Path, "a.aof.7.incr.aof"), AofTestKit.Command("SET", "k", "w"));
            File.WriteAllText(Path.Combine(temp.Path, "a.aof.manifest"), "file a.aof.1.base.aof seq 1 type b\n");

            var result = await AofChecker.CheckAsync(temp.Path);

            Assert.Equal(AofStatus.Valid, result.Status);
            Assert.Equal(new[] { "a.aof.7.incr.aof" }, result.UnlistedFiles);
        }
    }
}
