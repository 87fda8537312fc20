using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using RedisRecovery.Aof;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Aof
{
    /// <summary>Every aof/aofdir case of the fixtures manifest, judged against the manifest and redis-check-aof 7.0.</summary>
    public sealed class AofFixtureTests
    {
        private readonly ITestOutputHelper _output;

        public AofFixtureTests(ITestOutputHelper output) => _output = output;

        public static TheoryData<string> AofCases => Rows(c => c.Kind is "aof" or "aofdir");

        public static TheoryData<string> DamagedDirectories => Rows(c => c.Kind == "aofdir" && c.Note.Contains("truncated") || c.Expect == "corrupt" && c.Kind == "aofdir");

        [Theory, MemberData(nameof(AofCases))]
        public async Task Check_AgreesWithRedisCheckAofAndTheManifest(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            using var temp = AofTestKit.NewTempDirectory();
            var copy = AofTestKit.CopyFixture(fixture.FullPath, temp.Path);
            var checkedPath = fixture.Kind == "aofdir" ? AofTestKit.ManifestOf(copy) : copy;
            var verdict = AofTestKit.CheckAof(checkedPath);
            _output.WriteLine(verdict.Output);

            var result = await AofChecker.CheckAsync(fixture.FullPath);

            Assert.Equal(fixture.Kind == "aofdir" ? AofLayout.MultiPart : AofLayout.SingleFile, result.Layout);
            if (verdict.Valid)
            {
                Assert.Equal(AofStatus.Valid, result.Status);
                Assert.Null(result.ErrorOffset);
            }
            else
            {
                Assert.NotEqual(AofStatus.Valid, result.Status);
                // redis-check-aof stops at the first damaged file: its last line is that file's ok_up_to.
                var damaged = verdict.Analyzed.Last();
                Assert.Equal(damaged.File, result.ErrorFile);
                Assert.Equal(damaged.File, result.ValidUpToFile);
                Assert.Equal(damaged.OkUpTo, result.ValidUpToOffset);
                Assert.True(result.ErrorOffset >= result.ValidUpToOffset);
                Assert.False(string.IsNullOrEmpty(result.Error));
            }
            foreach (var (file, size, okUpTo) in verdict.Analyzed.Where(a => a.OkUpTo == a.Size))
            {
                var ours = result.Files.Single(f => f.FileName == file);
                Assert.Equal(AofStatus.Valid, ours.Status);
                Assert.Equal(size, ours.ValidUpToOffset);
            }
            // The manifest's verdicts: what redis-server did with the case.
            if (fixture.Expect == "corrupt" || fixture.Features.Contains("aof-lf-only-line-endings(corrupt)") || fixture.NativeLoad.StartsWith("rejected: bad AOF format"))
            {
                Assert.Equal(AofStatus.Corrupt, result.Status);
            }
            else if (fixture.Note.Contains("truncated tail"))
            {
                Assert.Equal(AofStatus.Truncated, result.Status);
            }
            else
            {
                Assert.Equal(AofStatus.Valid, result.Status);
            }
            Assert.Equal(result.Commands, result.CommandCounts.Values.Sum());
            if (fixture.KeysRead is long keysInPreamble)
            {
                Assert.Equal(keysInPreamble, result.Files.Sum(f => f.PreambleKeys ?? 0));
            }
            if (fixture.Features.Contains("aof-timestamps"))
            {
                Assert.NotNull(result.FirstTimestampUtc);
                Assert.True(result.LastTimestampUtc >= result.FirstTimestampUtc);
            }
        }

        [Theory, MemberData(nameof(DamagedDirectories))]
        public async Task RepairedCopy_LoadsInRedisWithTheExpectedDataset(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            // A truncated tail is what Redis itself loads (the manifest's dbsize/digest); a corrupt middle is what
            // it loads after redis-check-aof --fix, which the manifest's note records.
            var (dbsize, digest) = fixture.Expect == "corrupt"
                ? FixedByRedisCheckAof(fixture.Note)
                : (fixture["dbsize"], fixture.Digest!);
            using var temp = AofTestKit.NewTempDirectory();
            var plan = await AofRepairer.PlanAsync(fixture.FullPath, new AofRepairRequest());
            Assert.Equal(fixture.Expect == "corrupt" ? AofRepairAction.CutAtCorruption : AofRepairAction.CutTruncatedTail, plan.Action);
            Assert.Equal(fixture.Expect == "corrupt", plan.RequiresForce);
            var destination = Path.Combine(temp.Path, "appendonlydir");

            var repaired = await AofRepairer.ApplyToCopyAsync(plan, destination);

            Assert.Equal(AofStatus.Valid, (await AofChecker.CheckAsync(repaired.OutputPath)).Status);
            // The original is never touched by a copy.
            Assert.Equal(plan.StatusBefore, (await AofChecker.CheckAsync(fixture.FullPath)).Status);
            await using var server = await AofTestKit.StartOnAofDirectoryAsync(destination, "--aof-load-truncated", "no");
            Assert.Equal((dbsize, digest), await AofTestKit.KeyspaceAndDigestAsync(server));
        }

        [Fact]
        public async Task SingleFileWithRdbPreamble_ReadsPastThePreamble_AndRedisLoadsTheSameDataset()
        {
            // An old-style AOF with a preamble is the base RDB followed by the commands: build one from the
            // multi-part fixture, whose dataset the manifest records.
            var fixture = FixtureManifest.Get("generated/aof-preamble-yes/appendonlydir");
            using var temp = AofTestKit.NewTempDirectory();
            var single = Path.Combine(temp.Path, "appendonly.aof");
            var baseRdb = File.ReadAllBytes(Directory.GetFiles(fixture.FullPath, "*.base.rdb").Single());
            var incremental = File.ReadAllBytes(Directory.GetFiles(fixture.FullPath, "*.incr.aof").Single());
            File.WriteAllBytes(single, baseRdb.Concat(incremental).ToArray());
            var multiPart = await AofChecker.CheckAsync(fixture.FullPath);

            var result = await AofChecker.CheckAsync(single);

            Assert.Equal(AofStatus.Valid, result.Status);
            Assert.Equal(AofFileFormat.RdbPreamble, result.Files.Single().Format);
            Assert.Equal(baseRdb.Length, result.Files.Single().PreambleEndOffset);
            Assert.Equal(fixture.KeysRead, result.Files.Single().PreambleKeys);
            Assert.Equal(multiPart.Commands, result.Commands);
            Assert.Equal(multiPart.CommandCounts, result.CommandCounts);
            var options = new RedisServerOptions { Directory = temp.Path, Output = _output };
            options.Arguments.AddRange(new[] { "--appendonly", "yes", "--appendfilename", "appendonly.aof" });
            await using var server = await RedisServerProcess.StartAsync(options);
            Assert.Equal((fixture["dbsize"], fixture.Digest!), await AofTestKit.KeyspaceAndDigestAsync(server));
        }

        [Fact]
        public async Task SingleFileWithRdbPreamble_CutInsideThePreamble_IsCorrupt_AndInsideTheTail_IsTruncated()
        {
            var fixture = FixtureManifest.Get("generated/aof-preamble-yes/appendonlydir");
            using var temp = AofTestKit.NewTempDirectory();
            var baseRdb = File.ReadAllBytes(Directory.GetFiles(fixture.FullPath, "*.base.rdb").Single());
            var incremental = File.ReadAllBytes(Directory.GetFiles(fixture.FullPath, "*.incr.aof").Single());
            var inPreamble = Path.Combine(temp.Path, "cut-in-preamble.aof");
            var inTail = Path.Combine(temp.Path, "cut-in-tail.aof");
            File.WriteAllBytes(inPreamble, baseRdb.Take(baseRdb.Length / 2).ToArray());
            File.WriteAllBytes(inTail, baseRdb.Concat(incremental.Take(incremental.Length - 3)).ToArray());

            var preambleResult = await AofChecker.CheckAsync(inPreamble);
            var tailResult = await AofChecker.CheckAsync(inTail);

            Assert.Equal(AofStatus.Corrupt, preambleResult.Status);
            Assert.StartsWith("RDB preamble: ", preambleResult.Error);
            Assert.Equal(0, preambleResult.ValidUpToOffset);
            Assert.Equal(AofStatus.Truncated, tailResult.Status);
            Assert.True(tailResult.ValidUpToOffset > baseRdb.Length);
        }

        private static (string Dbsize, string Digest) FixedByRedisCheckAof(string note)
        {
            var match = Regex.Match(note, @"after redis-check-aof --fix.*?dbsize (?<dbsize>\S+), digest (?<digest>[0-9a-f]{40})");
            Assert.True(match.Success, "the manifest note records the dataset after redis-check-aof --fix");
            return (match.Groups["dbsize"].Value, match.Groups["digest"].Value);
        }

        private static TheoryData<string> Rows(System.Func<FixtureCase, bool> predicate)
        {
            var data = new TheoryData<string>();
            foreach (var row in FixtureManifest.Rows(predicate))
            {
                data.Add((string)row[0]);
            }
            return data;
        }
    }
}
