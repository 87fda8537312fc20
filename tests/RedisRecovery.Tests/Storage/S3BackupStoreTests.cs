using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3.Model;
using RedisRecovery.Storage;
using RedisRecovery.Storage.S3;
using S3Location = RedisRecovery.Storage.S3.S3Location;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Storage
{
    [Collection(S3ServerCollection.Name)]
    public sealed class S3BackupStoreTests : S3ServerTest
    {
        private const int MiB = 1024 * 1024;

        public S3BackupStoreTests(S3ServerProcess server, ITestOutputHelper output)
            : base(server, output)
        {
        }

        [Fact]
        public async Task Upload_SmallObject_GoesUpInOnePutWithItsSha256_AndDownloadsVerified()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}/nightly", handler);
            var content = S3TestEnvironment.RandomBytes(300_000, seed: 1);

            var uploaded = await store.UploadAsync("cache.rdb", new ForwardOnlyStream(content), null, CancellationToken.None);

            var expectedSha = Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant();
            Assert.Equal(expectedSha, uploaded.Sha256);
            Assert.Equal(1, uploaded.PartCount);
            Assert.True(uploaded.ServerChecksumVerified);
            Assert.Equal(content.Length, uploaded.Object.Size);
            Assert.Equal($"s3://{bucket}/nightly/cache.rdb", uploaded.Object.FullLocation);
            var put = Assert.Single(handler.Requests, r => r.Method == "PUT" && r.Uri.AbsolutePath.EndsWith("/nightly/cache.rdb"));
            Assert.Equal(Convert.ToBase64String(SHA256.HashData(content)), put.Header("x-amz-checksum-sha256"));
            Assert.DoesNotContain(handler.Requests, r => r.HasQuery("uploads"));

            using var downloaded = new MemoryStream();
            var result = await store.DownloadAsync("cache.rdb", downloaded, expectedSha, null, CancellationToken.None);
            Assert.Equal(content, downloaded.ToArray());
            Assert.Equal(expectedSha, result.Sha256);
            Assert.Contains("expected SHA-256", result.VerifiedAgainst);
        }

        [Fact]
        public async Task Upload_LargeObject_GoesUpAsParallelParts_WithinTheBufferBound_AndReadsBackVerified()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}", handler, o => o.Parallelism = 2);
            var content = S3TestEnvironment.RandomBytes(17 * MiB + 12345, seed: 2);
            var progress = new List<long>();

            var uploaded = await store.UploadAsync("big.rdb", new ForwardOnlyStream(content), new SyncProgress(progress), CancellationToken.None);

            Assert.Equal(4, uploaded.PartCount);
            Assert.True(uploaded.ServerChecksumVerified);
            Assert.Equal(content.Length, uploaded.Object.Size);
            var parts = handler.Requests.Where(r => r.IsUploadPart).ToList();
            Assert.Equal(4, parts.Count);
            Assert.All(parts, part => Assert.NotNull(part.Header("x-amz-checksum-sha256")));
            Assert.InRange(handler.MaxUploadPartsInFlight, 1, 2);
            Assert.Equal(content.Length, progress.Max());
            var initiate = Assert.Single(handler.Requests, r => r.Method == "POST" && r.HasQuery("uploads"));
            Assert.Equal("SHA256", initiate.Header("x-amz-checksum-algorithm"));

            await using var read = await store.OpenReadAsync("big.rdb", ReadIntegrity.StoreChecks, CancellationToken.None);
            using var copy = new MemoryStream();
            await read.CopyToAsync(copy);
            Assert.Equal(content, copy.ToArray());
        }

        [Fact]
        public async Task Upload_WithChecksumsOff_SendsNoChecksumHeaders_AndDownloadVerifiesOurMetadataSha()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}", handler, o => o.UseServerChecksums = false);
            var content = S3TestEnvironment.RandomBytes(50_000, seed: 3);

            var uploaded = await store.UploadAsync("plain.rdb", new MemoryStream(content), null, CancellationToken.None);

            Assert.False(uploaded.ServerChecksumVerified);
            var put = Assert.Single(handler.Requests, r => r.Method == "PUT");
            Assert.Null(put.Header("x-amz-checksum-sha256"));
            Assert.Null(put.Header("x-amz-checksum-crc32"));
            Assert.Null(put.Header("x-amz-trailer"));
            using var downloaded = new MemoryStream();
            var result = await store.DownloadAsync("plain.rdb", downloaded, null, null, CancellationToken.None);
            Assert.Equal(uploaded.Sha256, result.Sha256);
            Assert.Contains("metadata", result.VerifiedAgainst);
        }

        [Fact]
        public async Task List_PagesThroughEveryObjectOfThePrefix_AndNothingElse()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}/backups/", handler, o => o.ListPageSize = 2);
            var names = Enumerable.Range(1, 7).Select(i => $"cache_{i}.rdb").ToList();
            foreach (var name in names)
            {
                await S3.Raw.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "backups/" + name, ContentBody = name });
            }
            await S3.Raw.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "backups/older/deep.rdb", ContentBody = "x" });
            await S3.Raw.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "elsewhere.rdb", ContentBody = "x" });

            var listed = new List<StoredObject>();
            await foreach (var item in store.ListAsync(CancellationToken.None))
            {
                listed.Add(item);
            }

            Assert.Equal(names, listed.Select(o => o.Name).OrderBy(n => n, StringComparer.Ordinal));
            Assert.All(listed, o => Assert.Equal(o.Name.Length, o.Size));
            Assert.All(listed, o => Assert.Equal($"s3://{bucket}/backups/{o.Name}", o.FullLocation));
            Assert.True(handler.Requests.Count(r => r.Method == "GET" && r.HasQuery("list-type")) >= 4);
            Assert.Contains(handler.Requests, r => r.HasQuery("continuation-token"));
        }

        [Fact]
        public async Task Delete_RemovesTheObject_AndDeletingAnAbsentObjectIsNotAnError()
        {
            var bucket = await S3.NewBucketAsync();
            using var store = S3.Store($"s3://{bucket}/p");
            await store.PutAsync("gone.rdb", new MemoryStream(new byte[] { 1, 2, 3 }), null, CancellationToken.None);
            Assert.NotNull(await store.GetAsync("gone.rdb", CancellationToken.None));

            await store.DeleteAsync("gone.rdb", CancellationToken.None);
            await store.DeleteAsync("gone.rdb", CancellationToken.None);

            Assert.Null(await store.GetAsync("gone.rdb", CancellationToken.None));
            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => store.OpenReadAsync("gone.rdb", ReadIntegrity.StoreChecks, CancellationToken.None));
            Assert.Equal("S3ObjectNotFound", error.ErrorId);
            Assert.Equal(FailureKind.NotFound, error.Kind);
        }

        [Fact]
        public async Task Upload_WhoseSourceFailsMidway_AbortsTheMultipartUpload_LeavingNothing()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}", handler);
            var source = new ForwardOnlyStream(S3TestEnvironment.RandomBytes(12 * MiB, seed: 4), failAtEnd: true);

            var error = await Assert.ThrowsAsync<IOException>(() => store.PutAsync("broken.rdb", source, null, CancellationToken.None));

            Assert.Contains("simulated", error.Message);
            Assert.Contains(handler.Requests, r => r.Method == "DELETE" && r.HasQuery("uploadId"));
            Assert.Null(await store.GetAsync("broken.rdb", CancellationToken.None));
            Assert.True(await S3.BucketIsEmptyWithoutPendingUploadsAsync(bucket), "an object or an open multipart upload was left behind");
        }

        [Fact]
        public async Task Upload_CancelledAfterTheFirstPart_AbortsTheMultipartUpload_LeavingNothing()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}", handler, o => o.Parallelism = 1);
            using var cancel = new CancellationTokenSource();
            var progress = new SyncProgress(new List<long>(), _ => cancel.Cancel());

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                store.PutAsync("cancelled.rdb", new ForwardOnlyStream(S3TestEnvironment.RandomBytes(21 * MiB, seed: 5)), progress, cancel.Token));

            Assert.InRange(handler.Requests.Count(r => r.IsUploadPart), 1, 2);
            Assert.Contains(handler.Requests, r => r.Method == "DELETE" && r.HasQuery("uploadId"));
            Assert.True(await S3.BucketIsEmptyWithoutPendingUploadsAsync(bucket), "an object or an open multipart upload was left behind");
        }

        [Fact]
        public async Task PendingMultipartUpload_KeepsTheBucketFromBeingDeleted_SoTheLeftoverProbeCanFail()
        {
            var bucket = await S3.NewBucketAsync();
            await S3.Raw.InitiateMultipartUploadAsync(bucket, "left-open.rdb");

            Assert.False(await S3.BucketIsEmptyWithoutPendingUploadsAsync(bucket));
        }

        [Fact]
        public async Task Upload_RetriesAPartTheServerAnsweredWith503_AndSucceeds()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            var failed = 0;
            handler.Intercept = r => r.IsUploadPart && r.Uri.Query.Contains("partNumber=2") && Interlocked.Exchange(ref failed, 1) == 0
                ? RecordingHandler.S3Error(HttpStatusCode.ServiceUnavailable, "SlowDown", "Please reduce your request rate.")
                : null;
            using var store = S3.Store($"s3://{bucket}", handler);
            var content = S3TestEnvironment.RandomBytes(11 * MiB, seed: 6);

            var uploaded = await store.UploadAsync("retried.rdb", new ForwardOnlyStream(content), null, CancellationToken.None);

            Assert.Equal(3, uploaded.PartCount);
            Assert.Equal(2, handler.Requests.Count(r => r.IsUploadPart && r.Uri.Query.Contains("partNumber=2")));
            using var copy = new MemoryStream();
            await store.DownloadAsync("retried.rdb", copy, uploaded.Sha256, null, CancellationToken.None);
            Assert.Equal(content, copy.ToArray());
        }

        [Fact]
        public async Task Download_OfAnObjectWhoseBytesDoNotMatchItsChecksum_FailsWithChecksumMismatch()
        {
            var bucket = await S3.NewBucketAsync();
            using var store = S3.Store($"s3://{bucket}");
            var stored = S3TestEnvironment.RandomBytes(70_000, seed: 7);
            // fauxqs records the checksum it is given without checking it, which lets a test plant damaged bytes.
            await S3.Raw.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucket,
                Key = "damaged.rdb",
                InputStream = new MemoryStream(stored),
                ChecksumSHA256 = Convert.ToBase64String(SHA256.HashData(new byte[] { 1, 2, 3 })),
            });

            await using var read = await store.OpenReadAsync("damaged.rdb", ReadIntegrity.StoreChecks, CancellationToken.None);
            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => read.CopyToAsync(Stream.Null));
            Assert.Equal("S3ChecksumMismatch", error.ErrorId);
            Assert.Equal(FailureKind.CorruptData, error.Kind);
            Assert.Contains("damaged.rdb", error.Message);
        }

        [Fact]
        public async Task Download_OfAMultipartObjectWhosePartsDoNotMatchTheCompositeChecksum_FailsWithChecksumMismatch()
        {
            var bucket = await S3.NewBucketAsync();
            using var store = S3.Store($"s3://{bucket}");
            var start = new InitiateMultipartUploadRequest { BucketName = bucket, Key = "parts.rdb", ChecksumAlgorithm = Amazon.S3.ChecksumAlgorithm.SHA256 };
            start.Metadata["rr-part-size"] = (5 * MiB).ToString();
            var uploadId = (await S3.Raw.InitiateMultipartUploadAsync(start)).UploadId;
            var etags = new List<PartETag>();
            foreach (var (number, length) in new[] { (1, 5 * MiB), (2, 1000) })
            {
                var part = await S3.Raw.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = bucket, Key = "parts.rdb", UploadId = uploadId, PartNumber = number,
                    InputStream = new MemoryStream(S3TestEnvironment.RandomBytes(length, seed: number)),
                    // The checksum of other bytes: fauxqs keeps it, so the composite it reports cannot match the content.
                    ChecksumSHA256 = Convert.ToBase64String(SHA256.HashData(new byte[number])),
                });
                etags.Add(new PartETag(number, part.ETag));
            }
            var complete = new CompleteMultipartUploadRequest { BucketName = bucket, Key = "parts.rdb", UploadId = uploadId };
            complete.AddPartETags(etags);
            await S3.Raw.CompleteMultipartUploadAsync(complete);

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                store.DownloadAsync("parts.rdb", Stream.Null, null, null, CancellationToken.None));
            Assert.Equal("S3ChecksumMismatch", error.ErrorId);
            Assert.Contains("2 parts", error.Message);
        }

        [Fact]
        public async Task Download_NotMatchingTheSidecarSha_FailsWithChecksumMismatch()
        {
            var bucket = await S3.NewBucketAsync();
            using var store = S3.Store($"s3://{bucket}");
            await store.PutAsync("a.rdb", new MemoryStream(S3TestEnvironment.RandomBytes(6 * MiB, seed: 8)), null, CancellationToken.None);

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                store.DownloadAsync("a.rdb", Stream.Null, new string('0', 64), null, CancellationToken.None));
            Assert.Equal("S3ChecksumMismatch", error.ErrorId);
        }

        [Theory]
        [InlineData(999, null, "S3SizeMismatch")]
        [InlineData(1000, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "S3ChecksumMismatch")]
        public async Task Upload_WhoseStoredObjectDoesNotMatchWhatWasSent_FailsAndDeletesIt(long reportedSize, string? reportedChecksum, string errorId)
        {
            // The verifying HEAD is answered by the test with the facts of a damaged object; fauxqs stored the real one.
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler
            {
                Intercept = r =>
                {
                    if (r.Method != "HEAD")
                    {
                        return null;
                    }
                    var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Array.Empty<byte>()) };
                    response.Content.Headers.ContentLength = reportedSize;
                    response.Content.Headers.LastModified = DateTimeOffset.UtcNow;
                    if (reportedChecksum != null)
                    {
                        response.Headers.Add("x-amz-checksum-sha256", reportedChecksum);
                    }
                    return response;
                },
            };
            using var store = S3.Store($"s3://{bucket}", handler);

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                store.PutAsync("checked.rdb", new MemoryStream(new byte[1000]), null, CancellationToken.None));

            Assert.Equal(errorId, error.ErrorId);
            Assert.Equal(FailureKind.CorruptData, error.Kind);
            Assert.Contains(handler.Requests, r => r.Method == "DELETE" && r.Uri.AbsolutePath.EndsWith("/checked.rdb"));
            Assert.True(await S3.BucketIsEmptyWithoutPendingUploadsAsync(bucket));
        }

        [Theory]
        [InlineData(S3ServerSideEncryption.Aes256, null, "AES256", "STANDARD_IA")]
        [InlineData(S3ServerSideEncryption.AwsKms, "arn:aws:kms:us-east-1:111122223333:key/test", "aws:kms", null)]
        public async Task Upload_SendsServerSideEncryptionAndStorageClassHeaders_OnPutAndMultipart(
            S3ServerSideEncryption encryption, string? kmsKey, string expectedHeader, string? storageClass)
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}", handler, o =>
            {
                o.ServerSideEncryption = encryption;
                o.KmsKeyId = kmsKey;
                o.StorageClass = storageClass;
            });

            await store.PutAsync("small.rdb", new MemoryStream(new byte[1000]), null, CancellationToken.None);
            await store.PutAsync("large.rdb", new MemoryStream(new byte[6 * MiB]), null, CancellationToken.None);

            var creating = handler.Requests.Where(r => (r.Method == "PUT" && !r.HasQuery("uploadId")) || r.HasQuery("uploads")).ToList();
            Assert.Equal(2, creating.Count);
            Assert.All(creating, r =>
            {
                Assert.Equal(expectedHeader, r.Header("x-amz-server-side-encryption"));
                Assert.Equal(kmsKey, r.Header("x-amz-server-side-encryption-aws-kms-key-id"));
                Assert.Equal(storageClass, r.Header("x-amz-storage-class"));
            });
            Assert.All(handler.Requests, r =>
            {
                Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={S3TestEnvironment.AccessKeyId}/", r.Header("Authorization"));
                Assert.DoesNotContain(r.Headers.Values, v => v.Contains(S3TestEnvironment.SecretAccessKey));
            });
        }

        [Fact]
        public async Task Upload_OverPlainHttp_SignsThePayload_WithTheSha256OfItsChecksumHeader()
        {
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler();
            using var store = S3.Store($"s3://{bucket}", handler);

            await store.PutAsync("small.rdb", new MemoryStream(new byte[1000]), null, CancellationToken.None);
            await store.PutAsync("large.rdb", new MemoryStream(new byte[6 * MiB]), null, CancellationToken.None);

            var bodies = handler.Requests.Where(r => r.Method == "PUT").ToList();
            Assert.Equal(3, bodies.Count);
            // The payload hash is the SHA-256 already computed for the checksum header, not a second pass over the body.
            Assert.All(bodies, r => Assert.Equal(
                Convert.ToHexString(Convert.FromBase64String(r.Header("x-amz-checksum-sha256")!)).ToLowerInvariant(), r.Header("x-amz-content-sha256")));
        }

        [Theory]
        [InlineData(true, "UNSIGNED-PAYLOAD")]
        [InlineData(false, null)]
        public async Task Upload_OverHttps_LeavesThePayloadUnsigned_OnlyWhenTheSignedChecksumHeaderGuardsIt(bool serverChecksums, string? expected)
        {
            // Answers recorded under the SDK: fauxqs speaks plain HTTP only.
            var handler = new RecordingHandler
            {
                Intercept = r =>
                {
                    var answer = new System.Net.Http.HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent(Array.Empty<byte>()) };
                    answer.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0123\"");
                    answer.Content.Headers.ContentLength = r.Method == "HEAD" ? 1000 : 0;
                    return answer;
                },
            };
            using var store = S3.Store("s3://offsite-bucket", handler, o =>
            {
                o.EndpointUrl = new Uri("https://s3.example.test/");
                o.UseServerChecksums = serverChecksums;
            });

            await store.PutAsync("small.rdb", new MemoryStream(new byte[1000]), null, CancellationToken.None);

            var put = Assert.Single(handler.Requests, r => r.Method == "PUT");
            var payloadHash = put.Header("x-amz-content-sha256");
            if (expected != null)
            {
                Assert.Equal(expected, payloadHash);
                Assert.Contains("x-amz-checksum-sha256", put.Header("Authorization"));
            }
            else
            {
                Assert.Matches("^[0-9a-f]{64}$", payloadHash);
            }
        }

        [Fact]
        public async Task MissingBucket_IsReportedAsBucketNotFound_ByListPutAndGet()
        {
            using var store = S3.Store("s3://rr-no-such-bucket-here/x");

            var list = await Assert.ThrowsAsync<RedisRecoveryException>(async () =>
            {
                await foreach (var _ in store.ListAsync(CancellationToken.None))
                {
                }
            });
            var put = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                store.PutAsync("a.rdb", new MemoryStream(new byte[10]), null, CancellationToken.None));
            var get = await Assert.ThrowsAsync<RedisRecoveryException>(() => store.GetAsync("a.rdb", CancellationToken.None));

            Assert.All(new[] { list, put, get }, e =>
            {
                Assert.Equal("S3BucketNotFound", e.ErrorId);
                Assert.Equal(FailureKind.NotFound, e.Kind);
            });
        }

        [Theory]
        [InlineData(HttpStatusCode.Forbidden, "AccessDenied", "S3AccessDenied", FailureKind.SecurityError)]
        [InlineData(HttpStatusCode.MovedPermanently, "PermanentRedirect", "S3WrongRegion", FailureKind.InvalidArgument)]
        [InlineData(HttpStatusCode.BadRequest, "AuthorizationHeaderMalformed", "S3WrongRegion", FailureKind.InvalidArgument)]
        [InlineData(HttpStatusCode.Forbidden, "SignatureDoesNotMatch", "S3AuthenticationFailed", FailureKind.AuthenticationFailed)]
        [InlineData(HttpStatusCode.BadRequest, "BadDigest", "S3ChecksumMismatch", FailureKind.CorruptData)]
        public async Task ServerRefusals_BecomeClearErrors(HttpStatusCode status, string code, string errorId, FailureKind kind)
        {
            // fauxqs neither authenticates nor knows regions: these answers are the documented S3 error bodies, injected.
            var bucket = await S3.NewBucketAsync();
            var handler = new RecordingHandler { Intercept = _ => RecordingHandler.S3Error(status, code, "injected by the test") };
            using var store = S3.Store($"s3://{bucket}", handler);

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                store.PutAsync("a.rdb", new MemoryStream(new byte[10]), null, CancellationToken.None));

            Assert.Equal(errorId, error.ErrorId);
            Assert.Equal(kind, error.Kind);
            Assert.Equal($"s3://{bucket}/a.rdb", error.Target);
            Assert.DoesNotContain(S3TestEnvironment.SecretAccessKey, error.ToString());
        }

        /// <summary>Records reports on the reporting thread (Progress&lt;T&gt; would post them later, racing the asserts).</summary>
        private sealed class SyncProgress : IProgress<long>
        {
            private readonly List<long> _reports;
            private readonly Action<long>? _then;

            public SyncProgress(List<long> reports, Action<long>? then = null)
            {
                _reports = reports;
                _then = then;
            }

            public void Report(long value)
            {
                lock (_reports)
                {
                    _reports.Add(value);
                }
                _then?.Invoke(value);
            }
        }
    }

    public sealed class S3LocationTests
    {
        [Theory]
        [InlineData("s3://my-bucket", "my-bucket", "", "s3://my-bucket")]
        [InlineData("s3://my-bucket/", "my-bucket", "", "s3://my-bucket")]
        [InlineData("s3://my-bucket/nightly", "my-bucket", "nightly/", "s3://my-bucket/nightly")]
        [InlineData("S3://my.bucket/a/b/", "my.bucket", "a/b/", "s3://my.bucket/a/b")]
        public void Parse_SplitsBucketAndPrefix(string text, string bucket, string prefix, string normalized)
        {
            var location = S3Location.Parse(text);
            Assert.Equal(bucket, location.Bucket);
            Assert.Equal(prefix, location.Prefix);
            Assert.Equal(normalized, location.ToString());
            Assert.Equal($"{normalized}/x.rdb", location.UriFor("x.rdb"));
        }

        [Theory]
        [InlineData("/var/backups")]
        [InlineData("s3://")]
        [InlineData("s3://ab")]
        [InlineData("s3://Upper-Case")]
        [InlineData("s3://under_score/x")]
        public void Parse_RejectsWhatIsNotABucketLocation(string text)
        {
            var error = Assert.Throws<RedisRecoveryException>(() => S3Location.Parse(text));
            Assert.Equal("S3InvalidLocation", error.ErrorId);
            Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        }

        [Fact]
        public void KeyFor_RejectsNamesThatWouldEscapeThePrefix()
        {
            var location = S3Location.Parse("s3://bucket-a/p");
            Assert.Equal("S3InvalidObjectName", Assert.Throws<RedisRecoveryException>(() => location.KeyFor("../x")).ErrorId);
            Assert.Equal("S3InvalidObjectName", Assert.Throws<RedisRecoveryException>(() => location.KeyFor("")).ErrorId);
        }

        public static IEnumerable<object[]> InvalidOptions() => new[]
        {
            new object[] { new S3StoreOptions { PartSize = 1024 * 1024 } },
            new object[] { new S3StoreOptions { Parallelism = 0 } },
            new object[] { new S3StoreOptions { ListPageSize = 1001 } },
            new object[] { new S3StoreOptions { KmsKeyId = "key", ServerSideEncryption = S3ServerSideEncryption.Aes256 } },
            new object[] { new S3StoreOptions { EndpointUrl = new Uri("ftp://127.0.0.1/") } },
            new object[] { new S3StoreOptions { ProfileName = "p", Credential = new BackupStoreCredential("AKID", S3TestEnvironment.Secure("s")) } },
        };

        [Theory]
        [MemberData(nameof(InvalidOptions))]
        public void Store_RefusesOptionsThatCannotWork(S3StoreOptions options)
        {
            var error = Assert.Throws<RedisRecoveryException>(() => new S3BackupStore(S3Location.Parse("s3://bucket-a"), options));
            Assert.Equal("S3InvalidOptions", error.ErrorId);
            Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        }

        [Fact]
        public void Credential_NeverShowsItsSecret()
        {
            var credential = new BackupStoreCredential("AKIDEXAMPLE", S3TestEnvironment.Secure("wJalrXUtnFEMI"));
            Assert.Equal("AKIDEXAMPLE (secret hidden)", credential.ToString());
        }
    }
}
