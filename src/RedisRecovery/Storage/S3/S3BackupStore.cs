using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace RedisRecovery.Storage.S3
{
    /// <summary>
    /// A backup store under an S3 prefix (AWS or an S3-compatible server). Uploads stream: objects up to one part go up
    /// in a single PUT, larger ones as a multipart upload with parts sent in parallel (memory ≈ PartSize × Parallelism);
    /// every upload is verified afterwards and an interrupted one is aborted, so no partial object is left.
    /// </summary>
    public sealed class S3BackupStore : IRemoteBackupStore, IDisposable
    {
        /// <summary>User metadata with the SHA-256 (hex) of a single-PUT object, for servers without checksum support.</summary>
        internal const string Sha256MetadataKey = "rr-sha256";

        /// <summary>User metadata with the part size of a multipart object, so a download can rebuild the composite checksum.</summary>
        internal const string PartSizeMetadataKey = "rr-part-size";

        private readonly PayloadHashReusingClient _client;
        private readonly S3StoreOptions _options;
        private readonly string _endpoint;
        private bool _bucketSeen;

        public S3BackupStore(S3Location location, S3StoreOptions? options = null)
            : this(location, options ?? new S3StoreOptions(), transportForTests: null)
        {
        }

        /// <param name="transportForTests">Replaces the SDK's HTTP handler, so tests can record requests or inject failures.</param>
        internal S3BackupStore(S3Location location, S3StoreOptions options, HttpMessageHandler? transportForTests)
        {
            options.Validate();
            S3Location = location;
            _options = options;
            _endpoint = options.EndpointUrl?.ToString() ?? $"AWS S3 ({options.Region ?? "default region"})";
            _client = CreateClient(options, transportForTests);
        }

        public S3Location S3Location { get; }

        public string Location => S3Location.ToString();

        public string? Region => _options.Region;

        public Uri? EndpointUrl => _options.EndpointUrl;

        public async IAsyncEnumerable<StoredObject> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var request = new ListObjectsV2Request
            {
                BucketName = S3Location.Bucket,
                Prefix = S3Location.Prefix,
                Delimiter = "/",
                MaxKeys = _options.ListPageSize,
            };
            while (true)
            {
                var page = await CallAsync(Location, () => _client.ListObjectsV2Async(request, cancellationToken)).ConfigureAwait(false);
                _bucketSeen = true;
                foreach (var item in page.S3Objects ?? new List<S3Object>())
                {
                    var name = item.Key.Substring(S3Location.Prefix.Length);
                    if (name.Length > 0)
                    {
                        yield return new StoredObject(name, item.Size ?? 0, ToOffset(item.LastModified), S3Location.UriFor(name));
                    }
                }
                if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
                {
                    yield break;
                }
                request.ContinuationToken = page.NextContinuationToken;
            }
        }

        public async Task<StoredObject?> GetAsync(string name, CancellationToken cancellationToken)
        {
            var head = await HeadAsync(name, cancellationToken).ConfigureAwait(false);
            return head == null ? null : new StoredObject(name, head.ContentLength, ToOffset(head.LastModified), S3Location.UriFor(name));
        }

        /// <summary>
        /// A stream of the object, fetched as parallel ranged GETs, that verifies its size and, with <see cref="ReadIntegrity.StoreChecks"/>,
        /// its SHA-256 (server checksum, composite or whole, or our metadata) when its end is read.
        /// </summary>
        public async Task<Stream> OpenReadAsync(string name, ReadIntegrity integrity, CancellationToken cancellationToken) =>
            await OpenVerifyingAsync(name, expectedSha256: null, integrity, cancellationToken).ConfigureAwait(false);

        /// <summary>
        /// Copies the object into <paramref name="destination"/>, verifying its size and either <paramref name="expectedSha256"/>
        /// (hex, e.g. from the backup's sidecar) or, without it, the SHA-256 the server or our metadata recorded.
        /// </summary>
        public async Task<S3DownloadResult> DownloadAsync(string name, Stream destination, string? expectedSha256, IProgress<long>? bytesRead,
            CancellationToken cancellationToken)
        {
            if (expectedSha256 != null && !Hex.IsSha256(expectedSha256))
            {
                throw new RedisRecoveryException("S3InvalidOptions", FailureKind.InvalidArgument,
                    $"The expected SHA-256 for {S3Location.UriFor(name)} is not 64 hex digits.") { Target = expectedSha256 };
            }
            using var source = await OpenVerifyingAsync(name, expectedSha256, ReadIntegrity.StoreChecks, cancellationToken).ConfigureAwait(false);
            var total = await source.CopyRangesToAsync(destination, bytesRead, cancellationToken).ConfigureAwait(false);
            return new S3DownloadResult(total, source.Sha256Hex, source.VerifiedAgainst);
        }

        /// <summary>
        /// As <see cref="UploadAsync"/>, without the SHA-256 of the whole object, which the store contract does not return:
        /// callers that need it hash what they pass (the backup copier checks it against the sidecar), so a multipart
        /// upload spares one pass over every byte. Size and server checksum are verified all the same.
        /// </summary>
        public async Task<StoredObject> PutAsync(string name, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken) =>
            (await UploadCoreAsync(name, content, hashWholeObject: false, bytesWritten, cancellationToken).ConfigureAwait(false)).Stored;

        /// <summary>
        /// Uploads <paramref name="content"/> (read once, to its end, never seeked) and verifies the stored object: its size,
        /// and the server's SHA-256 checksum when <see cref="S3StoreOptions.UseServerChecksums"/> is on.
        /// </summary>
        public async Task<S3UploadResult> UploadAsync(string name, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            var (stored, sent, serverChecksumVerified) = await UploadCoreAsync(name, content, hashWholeObject: true, bytesWritten, cancellationToken).ConfigureAwait(false);
            return new S3UploadResult(stored, sent.Sha256Hex!, sent.PartCount, serverChecksumVerified);
        }

        private async Task<(StoredObject Stored, SentObject Sent, bool ServerChecksumVerified)> UploadCoreAsync(string name, Stream content, bool hashWholeObject,
            IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            var key = S3Location.KeyFor(name);
            var target = S3Location.UriFor(name);
            var upload = new S3StreamingUpload(_client, _options, S3Location.Bucket, key, target, _endpoint);
            var sent = await upload.RunAsync(content, hashWholeObject, bytesWritten, cancellationToken).ConfigureAwait(false);
            _bucketSeen = true;
            var head = await HeadAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw S3Errors.Error(S3Errors.ObjectNotFound, FailureKind.IOError,
                    $"{target} is missing right after its upload completed.", target);
            if (head.ContentLength != sent.Length)
            {
                await DeleteAsync(name, CancellationToken.None).ConfigureAwait(false);
                throw S3Errors.Error(S3Errors.SizeMismatch, FailureKind.CorruptData,
                    $"{target} held {head.ContentLength} bytes after uploading {sent.Length}; the object was deleted.", target);
            }
            var serverChecksumVerified = false;
            if (_options.UseServerChecksums && !string.IsNullOrEmpty(head.ChecksumSHA256))
            {
                if (!S3Checksums.SameBase64Digest(head.ChecksumSHA256, sent.ServerChecksum))
                {
                    // A damaged object under a backup's name is worse than none.
                    await DeleteAsync(name, CancellationToken.None).ConfigureAwait(false);
                    throw S3Errors.Error(S3Errors.ChecksumMismatch, FailureKind.CorruptData,
                        $"{target}: the server's SHA-256 checksum {head.ChecksumSHA256} differs from the {sent.ServerChecksum} of the bytes sent; the object was deleted.",
                        target);
                }
                serverChecksumVerified = true;
            }
            return (new StoredObject(name, head.ContentLength, ToOffset(head.LastModified), target), sent, serverChecksumVerified);
        }

        public async Task DeleteAsync(string name, CancellationToken cancellationToken)
        {
            var target = S3Location.UriFor(name);
            await CallAsync(target, () => _client.DeleteObjectAsync(S3Location.Bucket, S3Location.KeyFor(name), cancellationToken)).ConfigureAwait(false);
        }

        public void Dispose() => _client.Dispose();

        private async Task<ParallelRangeReadStream> OpenVerifyingAsync(string name, string? expectedSha256, ReadIntegrity integrity,
            CancellationToken cancellationToken)
        {
            var target = S3Location.UriFor(name);
            var head = await HeadAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw S3Errors.Error(S3Errors.ObjectNotFound, FailureKind.NotFound, $"{target} does not exist.", target);
            return new ParallelRangeReadStream(_client, _options, S3Location.Bucket, S3Location.KeyFor(name),
                integrity == ReadIntegrity.CallerChecks ? new DownloadExpectations(head.ContentLength, head.ETag) : Expectations(head, expectedSha256),
                target, _endpoint);
        }

        private static DownloadExpectations Expectations(GetObjectMetadataResponse head, string? expectedSha256)
        {
            var expected = new DownloadExpectations(head.ContentLength, head.ETag);
            var serverChecksum = head.ChecksumSHA256;
            var composite = serverChecksum != null &&
                (serverChecksum.IndexOf('-') >= 0 || string.Equals(head.ChecksumType?.Value, "COMPOSITE", StringComparison.OrdinalIgnoreCase));
            var metadataSha = head.Metadata[Sha256MetadataKey];
            if (expectedSha256 != null)
            {
                expected.Sha256Hex = expectedSha256;
                expected.Sha256Origin = "the expected SHA-256";
            }
            else if (serverChecksum != null && !composite)
            {
                expected.Sha256Hex = Hex.Lower(Convert.FromBase64String(serverChecksum));
                expected.Sha256Origin = "the server's SHA-256";
            }
            else if (!string.IsNullOrEmpty(metadataSha))
            {
                expected.Sha256Hex = metadataSha;
                expected.Sha256Origin = "the SHA-256 in the object's metadata";
            }
            // A given SHA-256 of the whole object is the strongest check: the composite one would only cost a second hash pass.
            if (expectedSha256 == null && composite && long.TryParse(head.Metadata[PartSizeMetadataKey], NumberStyles.None, CultureInfo.InvariantCulture, out var partSize) &&
                partSize >= S3StoreOptions.MinimumPartSize && partSize <= S3StoreOptions.MaximumPartSize)
            {
                expected.CompositeBase64 = serverChecksum;
                expected.CompositePartSize = partSize;
            }
            return expected;
        }

        private async Task<GetObjectMetadataResponse?> HeadAsync(string name, CancellationToken cancellationToken)
        {
            var target = S3Location.UriFor(name);
            var request = new GetObjectMetadataRequest { BucketName = S3Location.Bucket, Key = S3Location.KeyFor(name), ChecksumMode = ChecksumMode.ENABLED };
            try
            {
                return await _client.GetObjectMetadataAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                // A HEAD answer has no body: a missing bucket looks like a missing key. Ask once which it is.
                if (!_bucketSeen)
                {
                    var probe = new ListObjectsV2Request { BucketName = S3Location.Bucket, Prefix = request.Key, MaxKeys = 1 };
                    await CallAsync(Location, () => _client.ListObjectsV2Async(probe, cancellationToken)).ConfigureAwait(false);
                    _bucketSeen = true;
                }
                return null;
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not RedisRecoveryException)
            {
                throw S3Errors.Translate(e, target, _endpoint);
            }
        }

        private Task<T> CallAsync<T>(string target, Func<Task<T>> call) => S3Errors.GuardAsync(call, target, _endpoint);

        private static DateTimeOffset ToOffset(DateTime? value) =>
            value is DateTime time ? new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue;

        private static PayloadHashReusingClient CreateClient(S3StoreOptions options, HttpMessageHandler? transport)
        {
            var config = new AmazonS3Config
            {
                ForcePathStyle = options.ForcePathStyle,
                RetryMode = RequestRetryMode.Standard,
                MaxErrorRetry = options.MaxRetries,
                Timeout = options.RequestTimeout,
                MaxConnectionsPerServer = options.Parallelism + 2,
                // The SDK copies request and response bodies through a buffer of this size (8 KiB by default): larger
                // copies cut the per-write overhead of multi-megabyte parts.
                BufferSize = 256 * 1024,
                // We compute and send SHA-256 ourselves (per part, for the composite); the SDK's default CRC32 trailer would
                // be a second checksum that some S3-compatible servers refuse.
                RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
                ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            };
            if (options.EndpointUrl != null)
            {
                config.ServiceURL = options.EndpointUrl.ToString();
                config.AuthenticationRegion = options.Region ?? "us-east-1";
            }
            else if (options.Region != null)
            {
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
            }
            if (options.ProfileName != null)
            {
                config.Profile = new Profile(options.ProfileName);
            }
            if (transport != null)
            {
                config.HttpClientFactory = new FixedTransportFactory(transport);
            }
            if (options.Credential is { } credential)
            {
                var secret = credential.RevealSecretAccessKey();
                var token = credential.RevealSessionToken();
                AWSCredentials keys = token == null
                    ? new BasicAWSCredentials(credential.AccessKeyId, secret)
                    : new SessionAWSCredentials(credential.AccessKeyId, secret, token);
                return new PayloadHashReusingClient(keys, config);
            }
            return new PayloadHashReusingClient(config);
        }

        private sealed class FixedTransportFactory : HttpClientFactory
        {
            private readonly HttpMessageHandler _transport;

            public FixedTransportFactory(HttpMessageHandler transport) => _transport = transport;

            public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(_transport, disposeHandler: false);

            public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

            public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
        }
    }
}
