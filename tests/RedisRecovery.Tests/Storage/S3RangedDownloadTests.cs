using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3.Model;
using RedisRecovery.Storage;
using RedisRecovery.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Storage
{
    /// <summary>Downloads as parallel ranged GETs, against fauxqs: order, sizes, a replaced object, broken bodies, the memory bound.</summary>
    [Collection(S3ServerCollection.Name)]
    public sealed class S3RangedDownloadTests : S3ServerTest
    {
        private const int MiB = 1024 * 1024;
        private const int Part = 5 * MiB;

        public S3RangedDownloadTests(S3ServerProcess server, ITestOutputHelper output)
            : base(server, output)
        {
        }

        [Theory]
        [InlineData(0, 0)]
        [InlineData(1, 1)]
        [InlineData(Part - 1, 1)]
        [InlineData(Part, 1)]
        [InlineData(Part + 1, 2)]
        [InlineData(3 * Part + 7, 4)]
        public async Task Download_DeliversEveryByteInOrder_OneRangedGetPerPart(int size, int ranges)
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}", handler);
            var content = S3TestEnvironment.RandomBytes(size, seed: size);
            var uploaded = await store.UploadAsync("a.rdb", new MemoryStream(content), null, CancellationToken.None);

            using var withSidecar = new MemoryStream();
            var checkedAgainstSidecar = await store.DownloadAsync("a.rdb", withSidecar, uploaded.Sha256, null, CancellationToken.None);
            using var withServerChecksum = new MemoryStream();
            var checkedAgainstServer = await store.DownloadAsync("a.rdb", withServerChecksum, null, null, CancellationToken.None);

            Assert.Equal(content, withSidecar.ToArray());
            Assert.Equal(content, withServerChecksum.ToArray());
            Assert.Equal(uploaded.Sha256, checkedAgainstSidecar.Sha256);
            Assert.Contains("expected SHA-256", checkedAgainstSidecar.VerifiedAgainst);
            // From one part size up, the store uploads multipart: the server then records a composite of the parts' SHA-256s.
            Assert.Contains(size >= Part ? "composite" : "server's SHA-256", checkedAgainstServer.VerifiedAgainst);
            var gets = handler.Requests.Where(r => r.IsRangedGet).ToList();
            Assert.Equal(2 * ranges, gets.Count);
            Assert.All(gets, get => Assert.NotNull(get.Header("If-Match")));
        }

        [Fact]
        public async Task Download_OfAnObjectReplacedMidway_FailsWithObjectChanged()
        {
            var bucket = await S3.NewBucketAsync();
            using var store = S3.Store($"s3://{bucket}", adjust: o => o.Parallelism = 1);
            await store.PutAsync("a.rdb", new MemoryStream(S3TestEnvironment.RandomBytes(2 * Part + 1, seed: 1)), null, CancellationToken.None);

            await using var read = await store.OpenReadAsync("a.rdb", ReadIntegrity.StoreChecks, CancellationToken.None);
            var first = new byte[Part];
            Assert.Equal(Part, await ReadFullyAsync(read, first));
            await S3.Raw.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucket, Key = "a.rdb", InputStream = new MemoryStream(S3TestEnvironment.RandomBytes(2 * Part + 1, seed: 2)),
            });

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => read.CopyToAsync(Stream.Null));
            Assert.Equal("S3ObjectChanged", error.ErrorId);
            Assert.Equal(FailureKind.Conflict, error.Kind);
            Assert.Contains("a.rdb", error.Message);
        }

        [Fact]
        public async Task Download_WhoseRangeBodyBreaksMidway_FetchesThatRangeAgain_AndDeliversTheObject()
        {
            var bucket = await S3.NewBucketAsync();
            var broken = 0;
            var handler = new RecordingHandler
            {
                BreakBodyAfter = r => r.IsRangedGet && r.Header("Range") == $"bytes={Part}-{2 * Part - 1}" && Interlocked.Exchange(ref broken, 1) == 0
                    ? 1000
                    : null,
            };
            using var store = S3.Store($"s3://{bucket}", handler);
            var content = S3TestEnvironment.RandomBytes(3 * Part, seed: 3);
            var uploaded = await store.UploadAsync("a.rdb", new MemoryStream(content), null, CancellationToken.None);

            using var copy = new MemoryStream();
            await store.DownloadAsync("a.rdb", copy, uploaded.Sha256, null, CancellationToken.None);

            Assert.Equal(content, copy.ToArray());
            Assert.Equal(1, broken);
            Assert.Equal(2, handler.Requests.Count(r => r.Header("Range") == $"bytes={Part}-{2 * Part - 1}"));
        }

        [Fact]
        public async Task Download_WhoseRangeBodyKeepsBreaking_FailsAfterItsRetries_AsAConnectionFailure()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler { BreakBodyAfter = r => r.IsRangedGet ? 10 : null };
            using var store = S3.Store($"s3://{bucket}", handler, o => o.MaxRetries = 2);
            await store.PutAsync("a.rdb", new MemoryStream(S3TestEnvironment.RandomBytes(1000, seed: 4)), null, CancellationToken.None);

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => store.DownloadAsync("a.rdb", Stream.Null, null, null, CancellationToken.None));

            Assert.Equal("S3ConnectionFailed", error.ErrorId);
            Assert.Equal(3, handler.Requests.Count(r => r.IsRangedGet));
        }

        [Fact]
        public async Task Download_WhoseBytesDifferFromTheSidecarSha_FailsWithChecksumMismatch_BeforeEndOfStream()
        {
            var bucket = await S3.NewBucketAsync();
            using var store = S3.Store($"s3://{bucket}");
            var content = S3TestEnvironment.RandomBytes(Part + 10, seed: 5);
            await store.PutAsync("a.rdb", new MemoryStream(content), null, CancellationToken.None);
            var otherSha = Convert.ToHexString(SHA256.HashData(content.AsSpan(1))).ToLowerInvariant();

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => store.DownloadAsync("a.rdb", Stream.Null, otherSha, null, CancellationToken.None));

            Assert.Equal("S3ChecksumMismatch", error.ErrorId);
            Assert.Contains(otherSha, error.Message);
        }

        [Fact]
        public async Task Download_ReadingSlowly_FetchesNoMoreRangesThanItsParallelism_AheadOfTheReader()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}", handler, o => o.Parallelism = 2);
            var content = S3TestEnvironment.RandomBytes(6 * Part, seed: 6);
            await store.PutAsync("a.rdb", new MemoryStream(content), null, CancellationToken.None);

            await using var read = await store.OpenReadAsync("a.rdb", ReadIntegrity.StoreChecks, CancellationToken.None);
            var first = new byte[Part];
            Assert.Equal(Part, await ReadFullyAsync(read, first));
            await Task.Delay(500);
            var fetchedWhileTheReaderHoldsOneRange = handler.Requests.Count(r => r.IsRangedGet);
            using var rest = new MemoryStream();
            await read.CopyToAsync(rest);

            Assert.Equal(2, fetchedWhileTheReaderHoldsOneRange);
            Assert.Equal(content, first.Concat(rest.ToArray()).ToArray());
            Assert.Equal(6, handler.Requests.Count(r => r.IsRangedGet));
        }

        [Fact]
        public async Task Download_Cancelled_StopsWithOperationCanceled()
        {
            var bucket = await S3.NewBucketAsync();
            using var store = S3.Store($"s3://{bucket}", adjust: o => o.Parallelism = 1);
            await store.PutAsync("a.rdb", new MemoryStream(S3TestEnvironment.RandomBytes(3 * Part, seed: 7)), null, CancellationToken.None);
            using var cancel = new CancellationTokenSource();
            var progress = new CancelAfterFirstReport(cancel);

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.DownloadAsync("a.rdb", Stream.Null, null, progress, cancel.Token));
        }

        private static async Task<int> ReadFullyAsync(Stream stream, byte[] buffer)
        {
            var filled = 0;
            int read;
            while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled))) > 0)
            {
                filled += read;
            }
            return filled;
        }

        private sealed class CancelAfterFirstReport : IProgress<long>
        {
            private readonly CancellationTokenSource _cancel;

            public CancelAfterFirstReport(CancellationTokenSource cancel) => _cancel = cancel;

            public void Report(long value) => _cancel.Cancel();
        }
    }
}
