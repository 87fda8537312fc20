using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3;
using Amazon.S3.Model;

namespace RedisRecovery.Storage.S3
{
    /// <summary>What went up: the facts the store verifies against the server's answer.</summary>
    internal sealed class SentObject
    {
        public SentObject(long length, string? sha256Hex, string serverChecksum, int partCount)
        {
            Length = length;
            Sha256Hex = sha256Hex;
            ServerChecksum = serverChecksum;
            PartCount = partCount;
        }

        public long Length { get; }

        /// <summary>SHA-256 of the whole object; null for a multipart upload that was asked not to compute it.</summary>
        public string? Sha256Hex { get; }

        /// <summary>The SHA-256 checksum S3 should report: of the object (single PUT) or composite of the parts (base64).</summary>
        public string ServerChecksum { get; }

        public int PartCount { get; }
    }

    /// <summary>
    /// One upload of a forward-only stream. The first part-sized block decides: shorter → one PUT; else a multipart
    /// upload whose parts are read in order and sent up to Parallelism at a time from a fixed set of buffers (memory
    /// bounded by PartSize × Parallelism). Any failure or cancellation aborts the multipart upload.
    /// </summary>
    internal sealed class S3StreamingUpload
    {
        private const int MaximumParts = 10_000;
        private readonly IAmazonS3 _client;
        private readonly S3StoreOptions _options;
        private readonly string _bucket;
        private readonly string _key;
        private readonly string _target;
        private readonly string _endpoint;
        private readonly int _partSize;

        /// <summary>
        /// UNSIGNED-PAYLOAD spares SigV4 a SHA-256 pass over every body. Only with the x-amz-checksum-sha256 header (itself
        /// signed, and checked by the server against the body) and over HTTPS: the SDK refuses it over plain HTTP.
        /// </summary>
        private readonly bool _unsignedPayload;
        private long _bytesSent;

        public S3StreamingUpload(IAmazonS3 client, S3StoreOptions options, string bucket, string key, string target, string endpoint)
        {
            _client = client;
            _options = options;
            _bucket = bucket;
            _key = key;
            _target = target;
            _endpoint = endpoint;
            _partSize = checked((int)options.PartSize);
            _unsignedPayload = options.UseServerChecksums && (options.EndpointUrl == null || options.EndpointUrl.Scheme == Uri.UriSchemeHttps);
        }

        /// <param name="hashWholeObject">
        /// False when the caller hashes the content itself: a multipart upload then skips one SHA-256 pass over every byte
        /// (each part is still hashed for its checksum header). A single PUT always knows its hash.
        /// </param>
        public async Task<SentObject> RunAsync(Stream content, bool hashWholeObject, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            using var buffers = new PartBuffers(_partSize, _options.Parallelism);
            var first = await buffers.TakeAsync(cancellationToken).ConfigureAwait(false);
            var firstLength = await ReadBlockAsync(content, first, cancellationToken).ConfigureAwait(false);
            if (firstLength < _partSize)
            {
                var sha256 = S3Checksums.Sha256(first, firstLength);
                await PutSingleAsync(first, firstLength, sha256, cancellationToken).ConfigureAwait(false);
                bytesWritten?.Report(firstLength);
                return new SentObject(firstLength, Hex.Lower(sha256), Convert.ToBase64String(sha256), 1);
            }
            using var whole = hashWholeObject ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            return await PutMultipartAsync(content, whole, buffers, first, bytesWritten, cancellationToken).ConfigureAwait(false);
        }

        private async Task PutSingleAsync(byte[] buffer, int length, byte[] sha256, CancellationToken cancellationToken)
        {
            var request = new PutObjectRequest
            {
                BucketName = _bucket,
                Key = _key,
                InputStream = new MemoryStream(buffer, 0, length, writable: false),
                AutoCloseStream = true,
                ContentType = "application/octet-stream",
                UseChunkEncoding = false,
            };
            request.Metadata[S3BackupStore.Sha256MetadataKey] = Hex.Lower(sha256);
            if (_options.UseServerChecksums)
            {
                request.ChecksumSHA256 = Convert.ToBase64String(sha256);
                request.DisablePayloadSigning = _unsignedPayload;
            }
            ApplyPlacement(request);
            await Guard(() => _client.PutObjectAsync(request, cancellationToken)).ConfigureAwait(false);
        }

        private async Task<SentObject> PutMultipartAsync(Stream content, IncrementalHash? whole, PartBuffers buffers, byte[] first,
            IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            var start = new InitiateMultipartUploadRequest { BucketName = _bucket, Key = _key, ContentType = "application/octet-stream" };
            start.Metadata[S3BackupStore.PartSizeMetadataKey] = _partSize.ToString(CultureInfo.InvariantCulture);
            if (_options.UseServerChecksums)
            {
                start.ChecksumAlgorithm = ChecksumAlgorithm.SHA256;
            }
            ApplyPlacement(start);
            var uploadId = (await Guard(() => _client.InitiateMultipartUploadAsync(start, cancellationToken)).ConfigureAwait(false)).UploadId;

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var parts = new List<Task<UploadedPart>>();
            long length = _partSize;
            try
            {
                var buffer = first;
                var filled = _partSize;
                while (true)
                {
                    var partNumber = parts.Count + 1;
                    if (partNumber > MaximumParts)
                    {
                        buffers.Return(buffer);
                        throw S3Errors.Error(S3Errors.ObjectTooLarge, FailureKind.InvalidArgument,
                            $"{_target} needs more than {MaximumParts} parts of {_partSize} bytes; raise the part size.", _target);
                    }
                    parts.Add(UploadPartAsync(uploadId, partNumber, buffer, filled, buffers, bytesWritten, stop));
                    // Hashed while the part is on its way: only this loop refills buffers, so the bytes cannot change under the hash.
                    whole?.AppendData(buffer, 0, filled);
                    if (filled < _partSize)
                    {
                        break;
                    }
                    buffer = await buffers.TakeAsync(stop.Token).ConfigureAwait(false);
                    filled = await ReadBlockAsync(content, buffer, stop.Token).ConfigureAwait(false);
                    if (filled == 0)
                    {
                        buffers.Return(buffer);
                        break;
                    }
                    length += filled;
                }
                var uploaded = await Task.WhenAll(parts).ConfigureAwait(false);
                var complete = new CompleteMultipartUploadRequest { BucketName = _bucket, Key = _key, UploadId = uploadId };
                complete.AddPartETags(uploaded.Select(part => new PartETag(part.Number, part.ETag)));
                await Guard(() => _client.CompleteMultipartUploadAsync(complete, cancellationToken)).ConfigureAwait(false);
                var composite = S3Checksums.Composite(uploaded.Select(part => part.Sha256).ToList());
                var sha256 = whole == null ? null : Hex.Lower(whole.GetHashAndReset());
                return new SentObject(length, sha256, composite + "-" + uploaded.Length, uploaded.Length);
            }
            catch (Exception failure)
            {
                stop.Cancel();
                var firstPartFailure = await SettleAsync(parts).ConfigureAwait(false);
                // When the reader stopped because a part failed, report the part's failure, not the cancellation it caused.
                var cause = firstPartFailure != null && failure is OperationCanceledException && !cancellationToken.IsCancellationRequested
                    ? firstPartFailure
                    : failure;
                var reported = await AbortAfterAsync(uploadId, cause).ConfigureAwait(false);
                ExceptionDispatchInfo.Capture(reported).Throw();
                throw;
            }
        }

        private async Task<UploadedPart> UploadPartAsync(string uploadId, int partNumber, byte[] buffer, int length, PartBuffers buffers,
            IProgress<long>? bytesWritten, CancellationTokenSource stop)
        {
            try
            {
                await Task.Yield();
                var sha256 = S3Checksums.Sha256(buffer, length);
                var request = new UploadPartRequest
                {
                    BucketName = _bucket,
                    Key = _key,
                    UploadId = uploadId,
                    PartNumber = partNumber,
                    PartSize = length,
                    InputStream = new MemoryStream(buffer, 0, length, writable: false),
                    UseChunkEncoding = false,
                };
                if (_options.UseServerChecksums)
                {
                    request.ChecksumSHA256 = Convert.ToBase64String(sha256);
                    request.DisablePayloadSigning = _unsignedPayload;
                }
                var response = await Guard(() => _client.UploadPartAsync(request, stop.Token)).ConfigureAwait(false);
                bytesWritten?.Report(Interlocked.Add(ref _bytesSent, length));
                return new UploadedPart(partNumber, response.ETag, sha256);
            }
            catch
            {
                // Wake the reader, which may be waiting for a buffer, and make it stop.
                stop.Cancel();
                throw;
            }
            finally
            {
                buffers.Return(buffer);
            }
        }

        /// <summary>Waits for every started part; returns the first real (non-cancellation) failure among them.</summary>
        private static async Task<Exception?> SettleAsync(List<Task<UploadedPart>> parts)
        {
            try
            {
                await Task.WhenAll(parts).ConfigureAwait(false);
            }
            catch
            {
                // inspected below, part by part
            }
            return parts.Where(part => part.IsFaulted)
                .Select(part => part.Exception!.InnerException!)
                .FirstOrDefault(exception => exception is not OperationCanceledException);
        }

        private async Task AbortAsync(string uploadId)
        {
            // Not cancellable: leaving the upload open would keep billing for parts nobody can see.
            var abort = new AbortMultipartUploadRequest { BucketName = _bucket, Key = _key, UploadId = uploadId };
            await Guard(() => _client.AbortMultipartUploadAsync(abort, CancellationToken.None)).ConfigureAwait(false);
        }

        private async Task<Exception> AbortAfterAsync(string uploadId, Exception failure)
        {
            try
            {
                await AbortAsync(uploadId).ConfigureAwait(false);
                return failure;
            }
            catch (RedisRecoveryException abortFailure)
            {
                return S3Errors.Error(S3Errors.AbortFailed, FailureKind.IOError,
                    $"The upload of {_target} failed ({failure.Message}) and aborting its multipart upload {uploadId} failed too " +
                    $"({abortFailure.Message}): its parts stay stored until it is aborted (or a lifecycle rule for incomplete uploads removes it).",
                    _target, failure);
            }
        }

        private void ApplyPlacement(PutObjectRequest request)
        {
            request.ServerSideEncryptionMethod = EncryptionMethod();
            request.ServerSideEncryptionKeyManagementServiceKeyId = _options.KmsKeyId;
            request.StorageClass = StorageClass();
        }

        private void ApplyPlacement(InitiateMultipartUploadRequest request)
        {
            request.ServerSideEncryptionMethod = EncryptionMethod();
            request.ServerSideEncryptionKeyManagementServiceKeyId = _options.KmsKeyId;
            request.StorageClass = StorageClass();
        }

        private ServerSideEncryptionMethod? EncryptionMethod() => _options.ServerSideEncryption switch
        {
            S3ServerSideEncryption.Aes256 => ServerSideEncryptionMethod.AES256,
            S3ServerSideEncryption.AwsKms => ServerSideEncryptionMethod.AWSKMS,
            _ => null,
        };

        private S3StorageClass? StorageClass() => _options.StorageClass == null ? null : S3StorageClass.FindValue(_options.StorageClass);

        private Task<T> Guard<T>(Func<Task<T>> call) => S3Errors.GuardAsync(call, _target, _endpoint);

        /// <summary>Fills <paramref name="buffer"/> unless the stream ends first; returns the bytes read.</summary>
        private static async Task<int> ReadBlockAsync(Stream content, byte[] buffer, CancellationToken cancellationToken)
        {
            var filled = 0;
            while (filled < buffer.Length)
            {
                var read = await content.ReadAsync(buffer, filled, buffer.Length - filled, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                filled += read;
            }
            return filled;
        }

        private sealed class UploadedPart
        {
            public UploadedPart(int number, string etag, byte[] sha256)
            {
                Number = number;
                ETag = etag;
                Sha256 = sha256;
            }

            public int Number { get; }

            public string ETag { get; }

            public byte[] Sha256 { get; }
        }
    }
}
