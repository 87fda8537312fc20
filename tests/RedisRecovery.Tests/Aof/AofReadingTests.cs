using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Aof;

namespace RedisRecovery.Tests.Aof
{
    /// <summary>The reader at every truncation point, with every split of its input, and on damaged bytes.</summary>
    public sealed class AofReadingTests
    {
        private static readonly byte[][] Items =
        {
            AofTestKit.Timestamp(1700000000),
            AofTestKit.Command("SELECT", "0"),
            AofTestKit.Command("set", "k1", "v1"),
            AofTestKit.Concat(new[]
            {
                AofTestKit.Command("MULTI"), AofTestKit.Command("SET", "k2", new string('x', 300)), AofTestKit.Command("INCR", "c"), AofTestKit.Command("EXEC"),
            }),
            AofTestKit.Timestamp(1700000005),
            AofTestKit.Command("SET", "k3", new string('y', 2500)),
            AofTestKit.Command("FLUSHALL"),
            AofTestKit.Timestamp(1700000009),
            AofTestKit.Command("SET", "k4", "v4"),
        };

        private static readonly byte[] Sample = AofTestKit.Concat(Items);

        /// <summary>Item ends in the sample: the only places a cut leaves a loadable AOF.</summary>
        private static readonly long[] Boundaries = Items.Select((_, i) => (long)Items.Take(i + 1).Sum(b => b.Length)).Prepend(0L).ToArray();

        [Fact]
        public async Task Check_EveryTruncationPoint_IsValidAtItemEndsAndTruncatedElsewhere()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var path = Path.Combine(temp.Path, "cut.aof");
            for (var cut = 0; cut <= Sample.Length; cut++)
            {
                File.WriteAllBytes(path, Sample.AsSpan(0, cut).ToArray());

                var result = await AofChecker.CheckAsync(path);

                var expectedEnd = Boundaries.Last(b => b <= cut);
                Assert.True(Boundaries.Contains(cut) ? result.Status == AofStatus.Valid : result.Status == AofStatus.Truncated, $"cut at {cut}: {result.Status} {result.Error}");
                Assert.Equal(expectedEnd, result.ValidUpToOffset);
                if (result.Status == AofStatus.Truncated)
                {
                    Assert.Equal(cut, result.ErrorOffset);
                }
            }
        }

        [Fact]
        public async Task Check_CountsCommandsByNameAndReadsTimestamps()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var path = Path.Combine(temp.Path, "sample.aof");
            File.WriteAllBytes(path, Sample);

            var result = await AofChecker.CheckAsync(path);

            Assert.Equal(AofStatus.Valid, result.Status);
            Assert.Equal(9, result.Commands);
            Assert.Equal(4, result.CommandCounts["SET"]);
            Assert.Equal(1, result.CommandCounts["FLUSHALL"]);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000).UtcDateTime, result.FirstTimestampUtc);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000009).UtcDateTime, result.LastTimestampUtc);
            Assert.Equal(Sample.Length, result.ValidUpToOffset);
        }

        [Fact]
        public async Task Scanner_GivesTheSameItemsForEverySplitOfTheInput()
        {
            var whole = await ScanAsync(new MemoryStream(Sample));
            Assert.Equal(Items.Length + 4, whole.Count);
            foreach (var chunk in new[] { 1, 2, 3, 7, 64, 1000, 2049 })
            {
                Assert.Equal(whole, await ScanAsync(new ChunkedStream(Sample, chunk)));
            }
        }

        [Theory]
        [InlineData("*2\r\n$3\r\nGET\r\n#1\r\nk\r\n", 13, "expected '$'")]
        [InlineData("*1\n$4\r\nPING\r\n", 2, "expected \\r\\n")]
        [InlineData("*0\r\n", 1, "at least one argument")]
        [InlineData("*1\r\n$4\r\nPINGX\r\n", 12, "expected \\r\\n after the bulk string")]
        [InlineData("*1\r\n$-1\r\n", 5, "decimal length")]
        [InlineData("*1\r\n$4\r\nEXEC\r\n", 0, "MULTI before EXEC")]
        [InlineData("*1\r\n$5\r\nMULTI\r\n*1\r\n$5\r\nMULTI\r\n", 15, "EXEC before another MULTI")]
        [InlineData("hello\r\n", 0, "expected '*'")]
        public async Task Check_DamagedBytes_AreCorruptWithTheOffsetOfTheFirstBadByte(string text, long errorOffset, string expectation)
        {
            using var temp = AofTestKit.NewTempDirectory();
            var path = Path.Combine(temp.Path, "bad.aof");
            File.WriteAllBytes(path, System.Text.Encoding.ASCII.GetBytes(text));

            var result = await AofChecker.CheckAsync(path);

            Assert.Equal(AofStatus.Corrupt, result.Status);
            Assert.Equal(errorOffset, result.ErrorOffset);
            Assert.Contains(expectation, result.Error);
            Assert.Equal("bad.aof", result.ErrorFile);
        }

        [Fact]
        public async Task Check_AnnotationsRedisSkips_AreSkipped_AndOnlyWellFormedTimestampsCount()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var path = Path.Combine(temp.Path, "annotations.aof");
            File.WriteAllBytes(path, AofTestKit.Concat(new[]
            {
                AofTestKit.Timestamp(1700000000), System.Text.Encoding.ASCII.GetBytes("#TS:17x0\r\n#note\n#TS:1700000042\n"),
                AofTestKit.Command("SET", "k", "v"),
            }));
            var theirs = AofTestKit.CheckAof(path);

            var result = await AofChecker.CheckAsync(path);

            Assert.True(theirs.Valid);
            Assert.Equal(AofStatus.Valid, result.Status);
            Assert.Equal(1, result.Commands);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000042).UtcDateTime, result.LastTimestampUtc);
        }

        [Fact]
        public async Task Check_EachFlippedByteOutsideValuesAndAnnotations_FailsWhereRedisCheckAofFails()
        {
            using var temp = AofTestKit.NewTempDirectory();
            var ours = Path.Combine(temp.Path, "flipped.aof");
            var theirs = Path.Combine(temp.Path, "flipped-for-redis.aof");
            var annotationBytes = new HashSet<long>();
            long position = 0;
            foreach (var item in Items)
            {
                if (item[0] == (byte)'#')
                {
                    for (var i = 0; i < item.Length; i++)
                    {
                        annotationBytes.Add(position + i);
                    }
                }
                position += item.Length;
            }
            // Structural bytes: '*', '$', digits and CR/LF of headers (value bytes can hold anything).
            var structural = Enumerable.Range(0, Sample.Length).Where(i => !annotationBytes.Contains(i) && IsStructural(i)).ToList();
            foreach (var offset in structural.Where((_, n) => n % 3 == 0))
            {
                var damaged = (byte[])Sample.Clone();
                damaged[offset] = (byte)'!';
                File.WriteAllBytes(ours, damaged);
                File.WriteAllBytes(theirs, damaged);

                var result = await AofChecker.CheckAsync(ours);
                var verdict = AofTestKit.CheckAof(theirs);

                Assert.False(verdict.Valid);
                Assert.Equal(AofStatus.Corrupt, result.Status);
                Assert.True(verdict.Analyzed.Single().OkUpTo == result.ValidUpToOffset, $"flipped byte {offset}: redis-check-aof ok_up_to {verdict.Analyzed.Single().OkUpTo}, ours {result.ValidUpToOffset}");
            }
        }

        private static bool IsStructural(int offset)
        {
            // A byte is structural when it lies on a header line or is the CR/LF closing a bulk string.
            var lineStart = offset;
            while (lineStart > 0 && Sample[lineStart - 1] != (byte)'\n')
            {
                lineStart--;
            }
            var first = Sample[lineStart];
            var lineEnd = Array.IndexOf(Sample, (byte)'\n', offset);
            var isHeader = (first == (byte)'*' || first == (byte)'$') && lineEnd - lineStart < 8;
            return isHeader || Sample[offset] == (byte)'\r' || Sample[offset] == (byte)'\n';
        }

        private static async Task<List<string>> ScanAsync(Stream stream)
        {
            var items = new List<string>();
            using var scanner = new AofScanner(stream, "sample.aof", 0, bufferSize: 16);
            while (true)
            {
                var kind = await scanner.NextAsync(CancellationToken.None);
                items.Add(kind switch
                {
                    AofItemKind.Command => $"{kind} {scanner.ItemOffset}-{scanner.ItemEnd} {System.Text.Encoding.ASCII.GetString(scanner.Name.ToArray())} {scanner.ArgumentCount}",
                    AofItemKind.Annotation => $"{kind} {scanner.ItemOffset}-{scanner.ItemEnd} {scanner.AnnotationTimestamp}",
                    _ => $"{kind} {scanner.ErrorOffset}",
                });
                if (kind is not (AofItemKind.Command or AofItemKind.Annotation))
                {
                    return items;
                }
            }
        }

        /// <summary>Serves its bytes at most <c>chunk</c> at a time, as a slow pipe or disk would.</summary>
        private sealed class ChunkedStream : MemoryStream
        {
            private readonly int _chunk;

            public ChunkedStream(byte[] bytes, int chunk)
                : base(bytes)
            {
                _chunk = chunk;
            }

            public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, _chunk));

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                Task.FromResult(Read(buffer, offset, count));

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
                new(base.Read(buffer.Span.Slice(0, Math.Min(buffer.Length, _chunk))));
        }
    }
}
