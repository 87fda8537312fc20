using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Tests.Infrastructure;

namespace RedisRecovery.Tests.Rdb
{
    /// <summary>The reader as a stream parser: every truncation point, every buffer split, values larger than the
    /// threshold, and an RDB embedded at the start of a longer stream.</summary>
    public sealed class RdbReaderStreamingTests
    {
        /// <summary>Small files that together hold every structure: all classic encodings (v4), streams with groups
        /// (v9, v11, v13), hash field expiry (v12), functions, module aux, Valkey slot info, quicklist2 plain nodes.</summary>
        public static IEnumerable<object[]> TruncationFixtures => new[]
        {
            "public/valkey-io__valkey/encodings.rdb",
            "public/HDT3213__rdb/stream_listpacks_1.rdb",
            "public/redis__librdb/stream_v11.rdb",
            "public/redis__librdb/stream_v13.rdb",
            "public/HDT3213__rdb/hash_with_hfe.rdb",
            "public/redis__librdb/hash_lp_with_hexpire_v12.rdb",
            "public/redis__librdb/function2.rdb",
            "public/redis__librdb/module_aux.rdb",
            "public/HDT3213__rdb/valkey_cluster_slot_info.rdb",
            "public/leonchen83__redis-replicator/dumpV10.rdb",
            "public/HDT3213__rdb/zipmap_with_big_values.rdb",
        }.Select(path => new object[] { path });

        public static IEnumerable<object[]> SplitFixtures => new[]
        {
            "public/leonchen83__redis-replicator/dumpV10.rdb",
            "public/HDT3213__rdb/stream_listpacks_1.rdb",
            "public/redis__librdb/function2.rdb",
        }.Select(path => new object[] { path });

        [Theory]
        [MemberData(nameof(TruncationFixtures))]
        public async Task Reader_AtEveryTruncationPoint_FailsOnlyWithCorruptDataAtOrBeforeTheCut(string relativePath)
        {
            var bytes = File.ReadAllBytes(FixtureManifest.Get(relativePath).FullPath);
            await ReadAllAsync(bytes, bytes.Length);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            for (var cut = 0; cut < bytes.Length; cut++)
            {
                var error = await Record.ExceptionAsync(() => ReadAllAsync(bytes, cut, timeout.Token));
                var corrupt = Assert.IsType<CorruptDataException>(error);
                Assert.InRange(corrupt.Offset, 0, cut);
                Assert.Equal("CorruptData", corrupt.ErrorId);
            }
        }

        [Theory]
        [MemberData(nameof(SplitFixtures))]
        public async Task Reader_WithTheInputSplitAtEveryOffset_ReadsTheSameEntries(string relativePath)
        {
            var bytes = File.ReadAllBytes(FixtureManifest.Get(relativePath).FullPath);
            var expected = Describe(await ReadAllAsync(new MemoryStream(bytes)));
            for (var split = 0; split <= bytes.Length; split++)
            {
                Assert.Equal(expected, Describe(await ReadAllAsync(new ChunkedStream(bytes, split))));
            }
            Assert.Equal(expected, Describe(await ReadAllAsync(new ChunkedStream(bytes, 1, 1))));
        }

        [Fact]
        public async Task Reader_OneByteAtATime_StreamsValuesAboveTheThreshold()
        {
            var bytes = File.ReadAllBytes(FixtureManifest.Get("generated/rdb/dump-7.0.15.rdb").FullPath);
            var expected = await ReadAllAsync(new MemoryStream(bytes), new RdbReaderOptions { LargeValueThreshold = 64 * 1024 * 1024 });
            var options = new RdbReaderOptions { LargeValueThreshold = 1024, BufferSize = 64 };
            using var reader = new RdbReader(new ChunkedStream(bytes, 1, 1), options);
            var streamed = 0;
            var index = 0;
            while (await reader.ReadEntryAsync() is RdbEntry entry)
            {
                var original = expected.Entries[index++];
                Assert.Equal(original.Key, entry.Key);
                if (entry.IsLargeValuePending)
                {
                    Assert.Throws<InvalidOperationException>(() => entry.Value);
                    var copy = new MemoryStream();
                    await entry.CopyValueToAsync(copy);
                    Assert.True(original.Value.Span.SequenceEqual(copy.ToArray()), entry.KeyText);
                    Assert.Equal(original.Value.Length, entry.ValueLength);
                    streamed++;
                }
                else
                {
                    Assert.True(original.Value.Span.SequenceEqual(entry.Value.Span), entry.KeyText);
                }
            }
            Assert.Equal(expected.Entries.Count, index);
            Assert.True(streamed > 5, $"only {streamed} values were above the threshold");
            Assert.Equal(RdbChecksumStatus.Valid, reader.ChecksumStatus);
        }

        [Fact]
        public async Task Reader_SkippingLargeValues_StillReadsEveryEntryAndTheChecksum()
        {
            var bytes = File.ReadAllBytes(FixtureManifest.Get("generated/rdb/dump-7.0.15.rdb").FullPath);
            using var reader = new RdbReader(new ChunkedStream(bytes, 4096, 4096), new RdbReaderOptions { LargeValueThreshold = 1024 });
            var keys = 0;
            while (await reader.ReadEntryAsync() is RdbEntry)
            {
                keys++;
            }
            Assert.Equal(52, keys);
            Assert.Equal(RdbChecksumStatus.Valid, reader.ChecksumStatus);
        }

        [Fact]
        public async Task Reader_DisposedWhileALargeValueWaits_EndsThatValueInsteadOfHanging()
        {
            var bytes = File.ReadAllBytes(FixtureManifest.Get("generated/rdb/dump-7.0.15.rdb").FullPath);
            var reader = new RdbReader(new ChunkedStream(bytes, 4096, 4096), new RdbReaderOptions { LargeValueThreshold = 1024, BufferSize = 1024 });
            RdbEntry? large = null;
            while (large is null && await reader.ReadEntryAsync() is RdbEntry entry)
            {
                large = entry.IsLargeValuePending ? entry : null;
            }
            Assert.NotNull(large);
            reader.Dispose();
            var copy = large!.CopyValueToAsync(new MemoryStream()).AsTask();
            Assert.Same(copy, await Task.WhenAny(copy, Task.Delay(TimeSpan.FromSeconds(10))));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => copy);
        }

        [Fact]
        public async Task Reader_OfAnRdbPreamble_StopsAtItsEnd_AndHandsBackWhatFollows()
        {
            var rdb = File.ReadAllBytes(FixtureManifest.Get("generated/rdb/dump-7.0.15.rdb").FullPath);
            var tail = Encoding.ASCII.GetBytes("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
            var combined = rdb.Concat(tail).ToArray();

            // A stream that cannot seek: what the reader read ahead plus the rest of the stream is exactly the tail.
            var socketLike = new ChunkedStream(combined, 7000, 7000);
            using (var reader = new RdbReader(socketLike, new RdbReaderOptions { LeaveOpen = true }))
            {
                var read = await ReadAllAsync(reader);
                Assert.Equal(52, read.Count);
                Assert.Equal(rdb.Length, reader.EndOffset);
                var rest = new MemoryStream();
                rest.Write(reader.ReadAheadBytes.ToArray(), 0, reader.ReadAheadBytes.Length);
                socketLike.CopyTo(rest);
                Assert.Equal(tail, rest.ToArray());
            }

            // A file that holds something before the RDB: offsets count from the stream's position, so the caller seeks to EndOffset.
            var prefixed = new MemoryStream(new byte[100].Concat(combined).ToArray());
            prefixed.Position = 100;
            using (var reader = new RdbReader(prefixed, new RdbReaderOptions { LeaveOpen = true }))
            {
                var read = await ReadAllAsync(reader);
                Assert.True(read[0].Offset > 100);
                Assert.Equal(100 + rdb.Length, reader.EndOffset);
                prefixed.Position = reader.EndOffset!.Value;
                Assert.Equal(tail, new BinaryReader(prefixed).ReadBytes(tail.Length + 1));
            }
        }

        [Fact]
        public async Task Reader_OfAFutureVersion_SaysNotSupportedWithTheVersionAndOffset()
        {
            var bytes = Encoding.ASCII.GetBytes("REDIS0099").Concat(new byte[] { 0xFF, 0, 0, 0, 0, 0, 0, 0, 0 }).ToArray();
            var error = await Assert.ThrowsAsync<RdbFormatNotSupportedException>(() => ReadAllAsync(bytes, bytes.Length));
            Assert.Equal(5, error.Offset);
            Assert.Contains("99", error.Message);
            Assert.Equal(FailureKind.NotSupported, error.Kind);
        }

        [Fact]
        public async Task Reader_OfAnUnknownTypeInAKnownVersion_ReportsCorruption()
        {
            var bytes = Encoding.ASCII.GetBytes("REDIS0009").Concat(new byte[] { 0xFE, 0x00, 100, 0x01, (byte)'k', 0x01, (byte)'v', 0xFF }).ToArray();
            var error = await Assert.ThrowsAsync<CorruptDataException>(() => ReadAllAsync(bytes, bytes.Length));
            Assert.Equal(11, error.Offset);
        }

        [Fact]
        public async Task Reader_OfAValkeyOwnType_SaysNotSupported_InsteadOfReadingItWithRedisMeaning()
        {
            // Valkey 9's type 22: a hash whose fields carry an 8-byte expiry after each value (-1: none); Redis 7.4's
            // type 22 puts a length-encoded TTL before each field, so reading one as the other misparses silently.
            var hash = new byte[] { 0xFE, 0x00, 22, 0x01, (byte)'h', 0x01, 0x01, (byte)'f', 0x01, (byte)'v' }
                .Concat(Enumerable.Repeat((byte)0xFF, 8)).Concat(new byte[] { 0xFF }).Concat(new byte[8]);
            var bytes = Encoding.ASCII.GetBytes("VALKEY080").Concat(hash).ToArray();
            var error = await Assert.ThrowsAsync<RdbFormatNotSupportedException>(() => ReadAllAsync(bytes, bytes.Length));
            Assert.Equal(11, error.Offset);
            Assert.Contains("22", error.Message);

            // Nor is Redis Enterprise's LRU opcode (107) taken for what it means there.
            var enterpriseLru = Encoding.ASCII.GetBytes("VALKEY080").Concat(new byte[] { 0xFE, 0x00, 107, 0x05, 0x00, 0x01, (byte)'k', 0x01, (byte)'v', 0xFF })
                .Concat(new byte[8]).ToArray();
            var lru = await Assert.ThrowsAsync<RdbFormatNotSupportedException>(() => ReadAllAsync(enterpriseLru, enterpriseLru.Length));
            Assert.Equal(11, lru.Offset);

            // The same value as a Valkey 9 DUMP payload (RDB version 80).
            var payload = RdbDumpPayload.Create(22, hash.Skip(5).Take(13).ToArray(), 80);
            Assert.Throws<RdbFormatNotSupportedException>(() => RdbDumpPayload.Parse(payload));
        }

        [Fact]
        public async Task Reader_OfAValkey8File_NamesTheValkeyVersion_NotTheRedisVersionItWritesForCompatibility()
        {
            static byte[] Aux(string name, string value) =>
                new byte[] { 0xFA, (byte)name.Length }.Concat(Encoding.ASCII.GetBytes(name))
                    .Concat(new[] { (byte)value.Length }).Concat(Encoding.ASCII.GetBytes(value)).ToArray();
            var bytes = Encoding.ASCII.GetBytes("REDIS0011").Concat(Aux("redis-ver", "7.2.4")).Concat(Aux("valkey-ver", "8.0.2"))
                .Concat(new byte[] { 0xFF }).Concat(new byte[8]).ToArray();
            using var reader = new RdbReader(new MemoryStream(bytes));
            Assert.Null(await reader.ReadEntryAsync());
            Assert.Equal("8.0.2", reader.Info.ServerVersion);
        }

        [Fact]
        public async Task Reader_OfALengthBeyondTheEnd_FailsBeforeAllocating()
        {
            // A key claiming 500 MiB in a 20-byte file.
            var bytes = Encoding.ASCII.GetBytes("REDIS0009").Concat(new byte[] { 0xFE, 0x00, 0x00, 0x80, 0x1F, 0x40, 0x00, 0x00, (byte)'k', 0xFF }).ToArray();
            var error = await Assert.ThrowsAsync<CorruptDataException>(() => ReadAllAsync(bytes, bytes.Length));
            Assert.Contains("exceeds", error.Message);

            // A stream that cannot tell its length: the bytes are gathered as they come, not allocated up front.
            var before = GC.GetTotalAllocatedBytes(precise: true);
            using var reader = new RdbReader(new ChunkedStream(bytes, 4, 4));
            var truncated = await Assert.ThrowsAsync<CorruptDataException>(async () => await reader.ReadEntryAsync());
            Assert.Contains("unexpected end of data", truncated.Message);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.True(allocated < 256 * 1024 * 1024, $"allocated {allocated} bytes");
        }

        [Fact]
        public async Task Reader_OfAnLzfLengthNoCompressedDataCanReach_FailsBeforeAllocatingIt()
        {
            // A key of 2 LZF bytes that claims to expand to 500 MB (below the 512 MiB key limit).
            var bytes = Encoding.ASCII.GetBytes("REDIS0009")
                .Concat(new byte[] { 0xFE, 0x00, 0x00, 0xC3, 0x02, 0x80, 0x1D, 0xCD, 0x65, 0x00, 0x00, (byte)'k', 0x01, (byte)'v', 0xFF })
                .ToArray();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var error = await Assert.ThrowsAsync<CorruptDataException>(() => ReadAllAsync(bytes, bytes.Length));
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.Contains("cannot expand", error.Message);
            Assert.Equal(12, error.Offset);
            Assert.True(allocated < 64 * 1024 * 1024, $"allocated {allocated} bytes");
        }

        [Fact]
        public async Task Reader_OfAChecksumMismatch_NamesBothChecksums_ButCanBeToldToReportIt()
        {
            var bytes = File.ReadAllBytes(FixtureManifest.Get("public/redis__librdb/invalid_chksum_v8.rdb").FullPath);
            var error = await Assert.ThrowsAsync<CorruptDataException>(() => ReadAllAsync(bytes, bytes.Length));
            Assert.Equal(bytes.Length - 8, error.Offset);
            using var lenient = new RdbReader(new MemoryStream(bytes), new RdbReaderOptions { VerifyChecksum = false });
            await ReadAllAsync(lenient);
            Assert.Equal(RdbChecksumStatus.Mismatch, lenient.ChecksumStatus);
        }

        private static async Task ReadAllAsync(byte[] bytes, int length, CancellationToken cancellationToken = default)
        {
            using var reader = new RdbReader(new MemoryStream(bytes, 0, length), new RdbReaderOptions { SourceName = "test input" });
            while (await reader.ReadEntryAsync(cancellationToken) is RdbEntry entry)
            {
                await entry.DecodeValueAsync(cancellationToken);
            }
        }

        private static async Task<(List<RdbEntry> Entries, RdbReader Reader)> ReadAllAsync(Stream stream, RdbReaderOptions? options = null)
        {
            var reader = new RdbReader(stream, options);
            return (await ReadAllAsync(reader), reader);
        }

        private static async Task<List<RdbEntry>> ReadAllAsync(RdbReader reader)
        {
            var entries = new List<RdbEntry>();
            while (await reader.ReadEntryAsync() is RdbEntry entry)
            {
                entries.Add(entry);
            }
            return entries;
        }

        private static string Describe((List<RdbEntry> Entries, RdbReader Reader) read)
        {
            var text = new StringBuilder();
            foreach (var entry in read.Entries)
            {
                text.Append(entry.Offset).Append(' ').Append(entry.Database).Append(' ').Append(Convert.ToBase64String(entry.Key)).Append(' ')
                    .Append(entry.TypeId).Append(' ').Append(entry.Encoding).Append(' ').Append(entry.ExpiresAtMs).Append(' ')
                    .Append(Convert.ToBase64String(entry.Value.ToArray())).Append('\n');
            }
            text.Append(read.Reader.Info.AuxFields.Count).Append(' ').Append(read.Reader.Info.Functions.Count).Append(' ')
                .Append(read.Reader.EndOffset).Append(' ').Append(read.Reader.ChecksumStatus);
            read.Reader.Dispose();
            return text.ToString();
        }

        /// <summary>A stream that cannot seek and returns at most <c>first</c> bytes on the first read and at most
        /// <c>rest</c> on each later one, like a socket.</summary>
        private sealed class ChunkedStream : Stream
        {
            private readonly byte[] _bytes;
            private readonly int _first;
            private readonly int _rest;
            private int _position;

            public ChunkedStream(byte[] bytes, int first, int rest = int.MaxValue)
            {
                _bytes = bytes;
                _first = first;
                _rest = rest;
            }

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position
            {
                get => throw new NotSupportedException();
                set => throw new NotSupportedException();
            }

            public override int Read(byte[] buffer, int offset, int count)
            {
                var limit = _position == 0 ? _first : _rest;
                if (limit == 0 && _position == 0)
                {
                    limit = _rest;
                }
                var step = Math.Min(Math.Min(count, limit), _bytes.Length - _position);
                Buffer.BlockCopy(_bytes, _position, buffer, offset, step);
                _position += step;
                return step;
            }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
