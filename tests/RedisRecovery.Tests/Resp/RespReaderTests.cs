using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Resp;

namespace RedisRecovery.Tests.Resp
{
    public sealed class RespReaderTests
    {
        /// <summary>Replies of every type, with what the reader must make of them.</summary>
        public static IEnumerable<object[]> Replies() => new[]
        {
            new object[] { "+OK\r\n", "SimpleString OK" },
            new object[] { "-ERR unknown command 'FOO'\r\n", "Error ERR unknown command 'FOO'" },
            new object[] { ":-42\r\n", "Integer -42" },
            new object[] { "$5\r\nhe\r\no\r\n", "BulkString he\r\no" },
            new object[] { "$0\r\n\r\n", "BulkString " },
            new object[] { "$-1\r\n", "Null" },
            new object[] { "*-1\r\n", "Null" },
            new object[] { "_\r\n", "Null" },
            new object[] { "*3\r\n:1\r\n$1\r\na\r\n*1\r\n+x\r\n", "Array[Integer 1, BulkString a, Array[SimpleString x]]" },
            new object[] { "*0\r\n", "Array[]" },
            new object[] { "%2\r\n+proto\r\n:3\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n", "Map[SimpleString proto, Integer 3, BulkString version, BulkString 7.0.15]" },
            new object[] { "~2\r\n:1\r\n:2\r\n", "Set[Integer 1, Integer 2]" },
            new object[] { ",3.25\r\n", "Double 3.25" },
            new object[] { ",-inf\r\n", "Double -Infinity" },
            new object[] { "#t\r\n", "Boolean True" },
            new object[] { "#f\r\n", "Boolean False" },
            new object[] { "=15\r\ntxt:Some string\r\n", "VerbatimString txt Some string" },
            new object[] { "(3492890328409238509324850943850943825024385\r\n", "BigNumber 3492890328409238509324850943850943825024385" },
            new object[] { "!21\r\nSYNTAX invalid syntax\r\n", "Error SYNTAX invalid syntax" },
            new object[] { ">2\r\n+message\r\n$2\r\nhi\r\n", "Push[SimpleString message, BulkString hi]" },
            new object[] { "|1\r\n+key-popularity\r\n*1\r\n,0.19\r\n*1\r\n:5\r\n", "Array[Integer 5]" },
        };

        [Theory]
        [MemberData(nameof(Replies))]
        public async Task Read_ReplyFedWholeSplitAtEveryOffsetAndByteByByte_GivesTheSameValue(string wire, string expected)
        {
            var bytes = Encoding.UTF8.GetBytes(wire);
            Assert.Equal(expected, Describe(await ReadOneAsync(new ChunkedStream(bytes, bytes.Length))));
            for (var split = 1; split < bytes.Length; split++)
            {
                Assert.Equal(expected, Describe(await ReadOneAsync(new ChunkedStream(bytes, split, bytes.Length - split))));
            }
            Assert.Equal(expected, Describe(await ReadOneAsync(new ChunkedStream(bytes, Enumerable.Repeat(1, bytes.Length).ToArray()))));
        }

        [Theory]
        [MemberData(nameof(Replies))]
        public async Task Read_ReplyCutShortAtAnyOffset_FailsAsConnectionClosedNamingSourceAndOffset(string wire, string expected)
        {
            _ = expected;
            var bytes = Encoding.UTF8.GetBytes(wire);
            for (var cut = 0; cut < bytes.Length; cut++)
            {
                var reader = new RespReader(new ChunkedStream(bytes.Take(cut).ToArray(), 1), "test:1");
                var error = await Assert.ThrowsAsync<RedisConnectionException>(() => reader.ReadAsync(CancellationToken.None).AsTask());
                Assert.Equal(RedisErrorIds.ConnectionClosed, error.ErrorId);
                Assert.Equal($"test:1 closed the connection {(cut == 0 ? "before" : "in the middle of")} a reply (at byte {cut}).", error.Message);
            }
        }

        [Theory]
        [InlineData("?1\r\n", "a RESP type byte")]
        [InlineData("$abc\r\n", "a decimal integer")]
        [InlineData("$-7\r\n", "a bulk length")]
        [InlineData("$3\r\nabcXY", "CR LF after a bulk payload")]
        [InlineData("*-5\r\n", "an element count")]
        [InlineData("+OK\n", "bare LF")]
        [InlineData("#x\r\n", "'t' or 'f'")]
        [InlineData("$600000000\r\n", "a bulk length between 0 and")]
        public async Task Read_MalformedReply_SaysWhatWasExpected(string wire, string expectation)
        {
            var reader = new RespReader(new MemoryStream(Encoding.ASCII.GetBytes(wire)), "test:1");
            var error = await Assert.ThrowsAsync<RedisProtocolException>(() => reader.ReadAsync(CancellationToken.None).AsTask());
            Assert.Contains(expectation, error.Message);
        }

        [Fact]
        public async Task Read_LengthsClaimingFarMoreThanArrives_FailAtEndOfDataWithoutAllocatingTheClaim()
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var wire in new[] { "*1000000000\r\n:1\r\n", "$536870912\r\nabc" })
            {
                var reader = new RespReader(new MemoryStream(Encoding.ASCII.GetBytes(wire)), "test:1");
                await Assert.ThrowsAsync<RedisConnectionException>(() => reader.ReadAsync(CancellationToken.None).AsTask());
            }
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 16 * 1024 * 1024);
        }

        [Fact]
        public async Task ReadRaw_AfterAReply_ReturnsBufferedBytesFirstThenTheStream()
        {
            var payload = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray();
            var wire = Encoding.ASCII.GetBytes("+FULLRESYNC abc 0\r\n\n$" + payload.Length + "\r\n").Concat(payload).Concat(Encoding.ASCII.GetBytes("+PONG\r\n")).ToArray();
            var reader = new RespReader(new ChunkedStream(wire, 100, 5000, wire.Length - 5100), "test:1", bufferSize: 4096);
            Assert.Equal("FULLRESYNC abc 0", (await reader.ReadAsync(CancellationToken.None)).AsString());
            Assert.Equal(string.Empty, await reader.ReadLineAsync(CancellationToken.None));
            Assert.Equal("$" + payload.Length, await reader.ReadLineAsync(CancellationToken.None));
            var copy = new byte[payload.Length];
            var filled = 0;
            while (filled < copy.Length)
            {
                var read = await reader.ReadRawAsync(copy.AsMemory(filled, Math.Min(10_000, copy.Length - filled)), CancellationToken.None);
                Assert.True(read > 0);
                filled += read;
            }
            Assert.Equal(payload, copy);
            Assert.Equal("PONG", (await reader.ReadAsync(CancellationToken.None)).AsString());
            Assert.Equal(wire.Length, reader.Position);
        }

        [Fact]
        public async Task Read_LongBulkLargerThanTheBuffer_IsReadWhole()
        {
            var value = new string('v', 300_000);
            var wire = Encoding.ASCII.GetBytes($"${value.Length}\r\n{value}\r\n");
            var reader = new RespReader(new ChunkedStream(wire, 777), "test:1", bufferSize: 1024);
            Assert.Equal(value, (await reader.ReadAsync(CancellationToken.None)).AsString());
        }

        private static async Task<RespValue> ReadOneAsync(Stream stream)
        {
            var reader = new RespReader(stream, "test:1", bufferSize: 16);
            var value = await reader.ReadAsync(CancellationToken.None);
            Assert.Equal(0, reader.Buffered);
            return value;
        }

        private static string Describe(RespValue value) => value.Type switch
        {
            RespType.Null => "Null",
            RespType.Integer => $"Integer {value.Integer}",
            RespType.Double => $"Double {value.Double.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
            RespType.Boolean => $"Boolean {value.Boolean}",
            RespType.VerbatimString => $"VerbatimString {value.VerbatimFormat} {value.AsString()}",
            _ when value.IsAggregate => $"{value.Type}[{string.Join(", ", value.Items.Select(Describe))}]",
            _ => $"{value.Type} {value.AsString()}",
        };
    }

    /// <summary>A read-only stream that hands out its bytes in the given chunk sizes (the last one repeats), like a network does.</summary>
    internal sealed class ChunkedStream : Stream
    {
        private readonly byte[] _bytes;
        private readonly int[] _chunks;
        private int _position;
        private int _chunk;

        public ChunkedStream(byte[] bytes, params int[] chunks)
        {
            _bytes = bytes;
            _chunks = chunks.Where(size => size > 0).DefaultIfEmpty(1).ToArray();
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _bytes.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var size = Math.Min(Math.Min(count, _chunks[Math.Min(_chunk, _chunks.Length - 1)]), _bytes.Length - _position);
            Array.Copy(_bytes, _position, buffer, offset, size);
            _position += size;
            _chunk++;
            return size;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
