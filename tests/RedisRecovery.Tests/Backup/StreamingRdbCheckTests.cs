using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using RedisRecovery.Tests.Infrastructure;

namespace RedisRecovery.Tests.Backup
{
    public sealed class StreamingRdbCheckTests
    {
        public static IEnumerable<object[]> ValidRdbFiles => FixtureManifest.Rows(c => c.Kind == "rdb" && c.ExpectValid);

        public static IEnumerable<object[]> CorruptRdbFiles => FixtureManifest.Rows(c => c.Kind == "rdb" && c.Expect == "corrupt");

        [Theory]
        [MemberData(nameof(ValidRdbFiles))]
        public async Task Check_WhileStreamingInOddSizedWrites_FindsWhatTheFileCheckFinds(string fixture)
        {
            var path = FixtureManifest.Get(fixture).FullPath;
            var expected = await RedisRecovery.Rdb.RdbFileChecker.CheckFileAsync(path);
            await using var check = new StreamingRdbCheck(fixture, CancellationToken.None);
            using var copy = new MemoryStream();
            await WriteInPiecesAsync(File.ReadAllBytes(path), check.Tee(copy), 7919);

            var result = await check.CompleteAsync();

            Assert.True(result.IsValid, result.Error);
            Assert.Equal(expected.Keys, result.Keys);
            Assert.Equal(expected.KeysPerDatabase, result.KeysPerDatabase);
            Assert.Equal(expected.RdbLength, result.RdbLength);
            Assert.Equal(File.ReadAllBytes(path), copy.ToArray());
        }

        [Theory]
        [MemberData(nameof(CorruptRdbFiles))]
        public async Task Check_OfACorruptStream_FailsWithTheOffset_AndNeverHoldsTheWriterUp(string fixture)
        {
            // The parser stops at the damage; 40 MiB more must still flow to the file without waiting for it.
            await using var check = new StreamingRdbCheck(fixture, CancellationToken.None);
            var tee = check.Tee(Stream.Null);
            await WriteInPiecesAsync(File.ReadAllBytes(FixtureManifest.Get(fixture).FullPath), tee, 4096);
            var filler = new byte[1024 * 1024];
            var writing = Task.Run(async () =>
            {
                for (var i = 0; i < 40; i++)
                {
                    await tee.WriteAsync(filler, 0, filler.Length);
                }
            });
            Assert.Same(writing, await Task.WhenAny(writing, Task.Delay(TimeSpan.FromSeconds(30))));

            var result = await check.CompleteAsync();

            Assert.False(result.IsValid);
            Assert.NotNull(result.ErrorOffset);
        }

        private static async Task WriteInPiecesAsync(byte[] bytes, Stream destination, int pieceSize)
        {
            for (var offset = 0; offset < bytes.Length; offset += pieceSize)
            {
                await destination.WriteAsync(bytes, offset, Math.Min(pieceSize, bytes.Length - offset));
            }
        }
    }
}
