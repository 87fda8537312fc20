using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Rdb
{
    /// <summary>Serialized strings as a real server writes them (DUMP's body: every string encoding) decode to the value.</summary>
    public sealed class RdbStringDecodingTests
    {
        private readonly ITestOutputHelper _output;

        public RdbStringDecodingTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public async Task TryDecode_GivesBackEveryStringEncodingAsTheServerHoldsIt()
        {
            var values = new[] { "", "hello", "-7", "127", "-128", "300", "-32768", "70000", "-2147483648", "2147483647", "0123", "9223372036854775807", new string('z', 300), string.Concat(Enumerable.Repeat("abcdefgh", 40)) };
            await using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            foreach (var value in values)
            {
                await connection.ExecuteAsync("SET", "k", value);
                var serialized = SerializedValueOf((await connection.ExecuteAsync("DUMP", "k")).Bytes!);

                Assert.True(RdbStringDecoding.TryDecode(serialized, out var plain), value);
                Assert.Equal(value, Encoding.UTF8.GetString(plain.Span));
                for (var cut = 0; cut < serialized.Length; cut++)
                {
                    Assert.False(RdbStringDecoding.TryDecode(serialized.AsMemory(0, cut), out _), $"{value} cut at {cut}");
                }
            }
        }

        [Fact]
        public async Task TryDecode_RefusesLzfThatDoesNotYieldTheStatedLength()
        {
            await using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            await connection.ExecuteAsync("SET", "k", new string('z', 300));
            var serialized = SerializedValueOf((await connection.ExecuteAsync("DUMP", "k")).Bytes!);
            Assert.Equal(0xC3, serialized[0]);

            // One more uncompressed byte promised than the compressed body yields.
            Assert.True(RdbStringDecoding.TryReadLength(serialized.AsSpan(1), out _, out _, out var compressedLengthSize));
            serialized[1 + compressedLengthSize + 1]++;

            Assert.False(RdbStringDecoding.TryDecode(serialized, out _));
        }

        /// <summary>A DUMP payload is the type byte, the serialized value, two version bytes and a CRC64.</summary>
        private static byte[] SerializedValueOf(byte[] dump)
        {
            Assert.Equal(RdbFormat.TypeString, dump[0]);
            return dump.AsSpan(1, dump.Length - 1 - RdbDumpPayload.FooterLength).ToArray();
        }
    }
}
