using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;
using RedisRecovery.Restore;
using RedisRecovery.Tests.Aof;
using RedisRecovery.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Restore
{
    /// <summary>
    /// The command path (values a Redis 7.0 target cannot RESTORE) rebuilds a value as its elements stream: a large
    /// value passes with a bounded amount of memory, every type and encoding is rebuilt exactly, and a value damaged
    /// midway fails alone, leaving nothing of itself in the target.
    /// </summary>
    [Collection(AllocationMeasuringCollection.Name)]
    public sealed class CommandPathStreamingTests : IClassFixture<SharedTarget>
    {
        private const int Threshold = 64 * 1024;
        private const long HeldBytesBound = 8 * 1024 * 1024;
        private const int FieldValueBytes = 1000;
        private readonly RedisServerProcess _shared;
        private readonly ITestOutputHelper _output;

        public CommandPathStreamingTests(SharedTarget shared, ITestOutputHelper output)
        {
            _shared = shared.Server;
            _output = output;
        }

        /// <summary>Files whose native load keeps something no command can make, with what it is.</summary>
        private static readonly Dictionary<string, string> BeyondCommands = new()
        {
            ["public/redis__librdb/zset_zl_v6.rdb"] = "scores of -0, which ZADD stores as 0 (the digest hashes the score's text)",
        };

        public static IEnumerable<object[]> NativelyLoadedRdbCases =>
            FixtureManifest.Rows(c => c.Kind == "rdb" && c.ExpectValid && c.NativeLoadOk && !c.IsTimeDependent && !BeyondCommands.ContainsKey(c.RelativePath));

        [Theory]
        [InlineData(2)]
        [InlineData(20)]
        public async Task LargeHashWithFieldExpiry_IntoRedis70_IsRebuiltWithBoundedMemory(int megabytes)
        {
            var fields = megabytes * 1024 * 1024 / FieldValueBytes;
            using var temp = new TempDirectory(RedisServerProcess.CreateTempDirectory());
            var directory = temp.Path;
            var rdb = Path.Combine(directory, "hash.rdb");
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var keyExpiry = now + 86_400_000;
            await WriteRdbAsync(rdb, new[]
            {
                ("large", HashWithFieldExpiry(now, fields, corruptAt: null), (long?)keyExpiry),
                ("all-fields-expired", HashWithFieldExpiry(now, 10, corruptAt: null, allExpired: true), null),
            });
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            var options = new RestoreOptions(rdb, RestoreTestKit.Options(rdb, target).Target) { LargeValueThreshold = Threshold };

            var (result, heldBytes) = await MeasurePeakHeldBytesAsync(() => RedisRestorer.RestoreAsync(options));

            _output.WriteLine($"{RestoreTestKit.Describe(result)}; {fields} fields; peak held {heldBytes} bytes");
            Assert.True(result.Verified, RestoreTestKit.Describe(result));
            Assert.Equal(1, result.KeysRestored);
            Assert.Equal(1, result.KeysViaCommandsCount);
            Assert.Equal(1, result.KeysSkipped.Expired);
            Assert.Equal(0, result.KeysFailedCount);
            await using var connection = await RestoreTestKit.ConnectAsync(target);
            Assert.Equal(LiveFieldCount(fields), (await connection.ExecuteAsync("HLEN", "large")).Integer);
            Assert.Equal(FieldValue(fields - 1), (await connection.ExecuteAsync("HGET", "large", FieldName(fields - 1))).Bytes);
            Assert.Equal(FieldValue(0), (await connection.ExecuteAsync("HGET", "large", FieldName(0))).Bytes);
            Assert.Equal(0, (await connection.ExecuteAsync("HEXISTS", "large", FieldName(3))).Integer);
            Assert.InRange((await connection.ExecuteAsync("PEXPIRETIME", "large")).Integer, keyExpiry - 1, keyExpiry + 1);
            Assert.Equal(0, (await connection.ExecuteAsync("EXISTS", "all-fields-expired")).Integer);
            // What is held is a few batches of elements (the one being filled, the one held back, the one being
            // written) and pooled buffers, whatever the value's size; holding the value and its decoded fields
            // took several times its size.
            Assert.True(heldBytes < HeldBytesBound, $"the command path held {heldBytes} bytes for a {megabytes} MiB value");
        }

        [Fact]
        public async Task ValueDamagedMidway_FailsItsKey_DeletesWhatWasWritten_AndTheRestIsRestored()
        {
            using var temp = new TempDirectory(RedisServerProcess.CreateTempDirectory());
            var directory = temp.Path;
            var rdb = Path.Combine(directory, "damaged.rdb");
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await WriteRdbAsync(rdb, new[]
            {
                ("damaged", HashWithFieldExpiry(now, 4000, corruptAt: 3000), (long?)null),
                ("intact", HashWithFieldExpiry(now, 100, corruptAt: null), null),
            });
            await using var target = await RestoreTestKit.StartTargetAsync(_output);
            await using var monitor = await RestoreTestKit.ConnectAsync(target);
            var options = new RestoreOptions(rdb, RestoreTestKit.Options(rdb, target).Target) { LargeValueThreshold = Threshold };

            var result = await RedisRestorer.RestoreAsync(options);

            _output.WriteLine(RestoreTestKit.Describe(result));
            var failure = Assert.Single(result.KeysFailed);
            Assert.Equal("damaged", failure.Key);
            Assert.Contains("LZF", failure.Reason);
            Assert.Contains($"{rdb}", failure.Reason);
            Assert.Equal(1, result.KeysRestored);
            Assert.Equal(0, (await monitor.ExecuteAsync("EXISTS", "damaged")).Integer);
            Assert.Equal(LiveFieldCount(100), (await monitor.ExecuteAsync("HLEN", "intact")).Integer);
            // The fields before the damage did reach the target (and were deleted): the value was streamed, not held.
            var info = (await monitor.ExecuteAsync("INFO", "commandstats")).AsString()!;
            var hsetCalls = int.Parse(Regex.Match(info, @"cmdstat_hset:calls=(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(hsetCalls > 2, $"{hsetCalls} HSET calls: the intact hash takes one, the damaged one's first batches the others");
            Assert.Contains("cmdstat_del:calls=1,", info);
        }

        [Fact]
        public async Task LargePayloadTheTargetRefuses_IsRebuiltWithCommandsFromItsSpilledCopy()
        {
            using var temp = new TempDirectory(RedisServerProcess.CreateTempDirectory());
            var directory = temp.Path;
            // A listpack hash with a repeated field: valid RDB 10 that a server sanitizing payloads refuses
            // ("Bad data format"); with commands, the later value of the field wins, as HSET makes it.
            var rdb = Path.Combine(directory, "duplicate-field.rdb");
            const int pairs = 1000;
            await using (var file = File.Create(rdb))
            await using (var writer = new RdbWriter(file, new RdbWriterOptions { Version = 10 }))
            {
                await writer.WriteHeaderAsync();
                using var value = new MemoryStream();
                WriteString(value, HashListpack(pairs, duplicateAt: 500));
                await writer.WriteEntryAsync(0, Encoding.UTF8.GetBytes("refused"), RdbFormat.TypeHashListpack, value.ToArray());
                await writer.CompleteAsync();
            }
            await using var target = await RestoreTestKit.StartTargetAsync(_output, null, null, "sanitize-dump-payload yes");
            var options = new RestoreOptions(rdb, RestoreTestKit.Options(rdb, target).Target) { LargeValueThreshold = Threshold };

            var result = await RedisRestorer.RestoreAsync(options);

            _output.WriteLine(RestoreTestKit.Describe(result));
            Assert.Equal(0, result.KeysFailedCount);
            Assert.Equal(1, result.KeysRestored);
            Assert.Equal(1, result.KeysViaCommandsCount);
            await using var connection = await RestoreTestKit.ConnectAsync(target);
            Assert.Equal(pairs - 1, (await connection.ExecuteAsync("HLEN", "refused")).Integer);
            Assert.Equal(ListpackText(500, 'v'), (await connection.ExecuteAsync("HGET", "refused", ListpackText(499, 'f'))).Bytes);
            Assert.Equal(ListpackText(pairs - 1, 'v'), (await connection.ExecuteAsync("HGET", "refused", ListpackText(pairs - 1, 'f'))).Bytes);
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), "redisrecovery-restore-*.payload"));
        }

        /// <summary>Every key of every file Redis 7.0 loads, rebuilt only with the commands the writer makes from
        /// the walked value, gives the native load's DEBUG DIGEST: all types, encodings and stream groups.</summary>
        [Theory]
        [MemberData(nameof(NativelyLoadedRdbCases))]
        public async Task EveryEncoding_RebuiltWithCommands_GivesTheNativeDigest(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            await using var connection = await RestoreTestKit.ConnectAsync(_shared);
            await connection.ExecuteAsync("FLUSHALL");
            var now = DateTimeOffset.UtcNow;
            using (var reader = new RdbReader(File.OpenRead(fixture.FullPath), new RdbReaderOptions { SourceName = fixture.FullPath }))
            {
                while (await reader.ReadEntryAsync() is RdbEntry entry)
                {
                    if (entry.IsExpiredAt(now))
                    {
                        continue;
                    }
                    await connection.ExecuteAsync("SELECT", entry.Database);
                    var writer = new ValueCommandWriter(entry.Key, entry.ExpiresAtMs, now.ToUnixTimeMilliseconds(), targetHasFieldTtl: false, () => { },
                        async (command, last, token) =>
                        {
                            var reply = (await connection.ExecuteBatchAsync(new[] { command.Command }, token))[0];
                            Assert.True(command.BestEffort || !reply.IsError, $"{command.Command.Name} for {entry.KeyText}: {reply.AsString()}");
                        });
                    await RdbValueDecoder.WalkAsync(entry.TypeId, entry.Value, writer, CancellationToken.None);
                    await writer.CompleteAsync(CancellationToken.None);
                }
            }

            Assert.Equal(fixture.Digest, (await connection.ExecuteAsync("DEBUG", "DIGEST")).AsString());
        }

        /// <summary>Runs <paramref name="operation"/> while sampling the live heap (after a full collection) every few
        /// milliseconds; returns its result and the largest growth over the heap before it started.</summary>
        private static async Task<(T Result, long PeakHeldBytes)> MeasurePeakHeldBytesAsync<T>(Func<Task<T>> operation)
        {
            var baseline = GC.GetTotalMemory(forceFullCollection: true);
            long peak = 0;
            using var stop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                    await Task.Delay(5).ConfigureAwait(false);
                }
            });
            try
            {
                return (await operation(), peak);
            }
            finally
            {
                stop.Cancel();
                await sampler;
            }
        }

        private static async Task WriteRdbAsync(string path, IEnumerable<(string Key, byte[] Value, long? ExpiresAtMs)> entries)
        {
            await using var file = File.Create(path);
            await using var writer = new RdbWriter(file, new RdbWriterOptions { Version = 12 });
            await writer.WriteHeaderAsync();
            foreach (var (key, value, expiresAtMs) in entries)
            {
                await writer.WriteEntryAsync(0, Encoding.UTF8.GetBytes(key), RdbFormat.TypeHashMetadata, value, expiresAtMs);
            }
            await writer.CompleteAsync();
        }

        /// <summary>
        /// A Redis 7.4 hash with field expiry (RDB type 24, which 7.0 cannot RESTORE): every fourth field from the
        /// fourth has expired, every fourth from the second expires tomorrow, the rest have no expiry. At
        /// <paramref name="corruptAt"/> a value is an LZF string too large for the reader to check whose data is damaged.
        /// </summary>
        private static byte[] HashWithFieldExpiry(long nowMs, int fields, int? corruptAt, bool allExpired = false)
        {
            var minimumExpiry = nowMs - 60_000;
            using var value = new MemoryStream();
            value.Write(BitConverter.GetBytes((ulong)minimumExpiry));
            WriteLength(value, (ulong)fields);
            for (var i = 0; i < fields; i++)
            {
                long? expiry = allExpired || i % 4 == 3 ? nowMs - 1000 : i % 4 == 1 ? nowMs + 86_400_000 : null;
                WriteLength(value, expiry is long at ? (ulong)(at - minimumExpiry + 1) : 0);
                WriteString(value, FieldName(i));
                if (i == corruptAt)
                {
                    const int plain = 17 * 1024 * 1024;
                    const int compressed = plain / 80;
                    value.WriteByte(0xC3);
                    WriteLength(value, compressed);
                    WriteLength(value, plain);
                    value.Write(Enumerable.Repeat((byte)0xFF, compressed).ToArray());
                }
                else
                {
                    WriteString(value, FieldValue(i));
                }
            }
            return value.ToArray();
        }

        /// <summary>A listpack of field/value pairs of 40-byte strings; the field at <paramref name="duplicateAt"/> repeats the one before.</summary>
        private static byte[] HashListpack(int pairs, int duplicateAt)
        {
            using var entries = new MemoryStream();
            for (var i = 0; i < pairs; i++)
            {
                foreach (var text in new[] { ListpackText(i == duplicateAt ? i - 1 : i, 'f'), ListpackText(i, 'v') })
                {
                    entries.WriteByte((byte)(0x80 | text.Length));
                    entries.Write(text);
                    entries.WriteByte((byte)(1 + text.Length));
                }
            }
            var blob = new byte[6 + entries.Length + 1];
            BitConverter.GetBytes((uint)blob.Length).CopyTo(blob, 0);
            BitConverter.GetBytes((ushort)(pairs * 2)).CopyTo(blob, 4);
            entries.ToArray().CopyTo(blob, 6);
            blob[^1] = 0xFF;
            return blob;
        }

        private static byte[] ListpackText(int i, char kind) => Encoding.ASCII.GetBytes($"{kind}{i:D39}");

        private static long LiveFieldCount(int fields) => Enumerable.Range(0, fields).Count(i => i % 4 != 3);

        private static byte[] FieldName(int i) => Encoding.ASCII.GetBytes($"field-{i}");

        private static byte[] FieldValue(int i)
        {
            var bytes = new byte[FieldValueBytes];
            new Random(i).NextBytes(bytes);
            return bytes;
        }

        private static void WriteString(Stream stream, byte[] bytes)
        {
            WriteLength(stream, (ulong)bytes.Length);
            stream.Write(bytes);
        }

        private static void WriteLength(Stream stream, ulong length)
        {
            Span<byte> encoded = stackalloc byte[9];
            stream.Write(encoded.Slice(0, RdbWriter.EncodeLength(length, encoded)));
        }
    }
}
