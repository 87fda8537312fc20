using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace RedisRecovery.Storage.S3
{
    /// <summary>What a download must match: its length and ETag always, each checksum only when it is known (not null).</summary>
    internal sealed class DownloadExpectations
    {
        public DownloadExpectations(long length, string etag)
        {
            Length = length;
            ETag = etag;
        }

        public long Length { get; }

        /// <summary>The ETag every range is fetched under (If-Match), so the ranges all come from the same object.</summary>
        public string ETag { get; }

        /// <summary>SHA-256 of the whole object, lowercase hex (from the caller's sidecar, the server or our metadata).</summary>
        public string? Sha256Hex { get; set; }

        public string? Sha256Origin { get; set; }

        /// <summary>Base64 of SHA-256 over the concatenated part digests, as S3 reports for multipart objects.</summary>
        public string? CompositeBase64 { get; set; }

        public long CompositePartSize { get; set; }
    }

    /// <summary>
    /// An object read as ranged GETs sent up to Parallelism at a time and delivered in order, each range into one of a
    /// fixed set of buffers (memory bounded by range size × Parallelism). A range whose body breaks is fetched again with
    /// backoff; a range of a replaced object fails (If-Match). When the object has a composite checksum, ranges are its parts
    /// and each is hashed by its own fetch, in parallel; the whole-object SHA-256 is computed only when there is one to
    /// check. A mismatch throws before the reader sees end-of-stream, so nobody mistakes damaged bytes for a backup.
    /// </summary>
    internal sealed class ParallelRangeReadStream : ForwardOnlyStream
    {
        private readonly IAmazonS3 _client;
        private readonly string _bucket;
        private readonly string _key;
        private readonly string _source;
        private readonly string _endpoint;
        private readonly DownloadExpectations _expected;
        private readonly int _rangeSize;
        private readonly int _maxRetries;
        private readonly bool _hashRanges;
        private readonly PartBuffers _buffers;
        private readonly Queue<Task<FetchedRange>> _fetches = new();
        private readonly List<byte[]> _rangeDigests = new();
        private readonly IncrementalHash? _whole;
        private readonly CancellationTokenSource _stop = new();
        private long _nextRangeStart;
        private FetchedRange? _current;
        private int _currentOffset;
        private long _position;
        private bool _verified;

        public ParallelRangeReadStream(IAmazonS3 client, S3StoreOptions options, string bucket, string key, DownloadExpectations expected,
            string source, string endpoint)
        {
            _client = client;
            _bucket = bucket;
            _key = key;
            _source = source;
            _endpoint = endpoint;
            _expected = expected;
            _maxRetries = options.MaxRetries;
            _hashRanges = expected.CompositeBase64 != null && expected.CompositePartSize > 0;
            _rangeSize = checked((int)(_hashRanges ? expected.CompositePartSize : options.PartSize));
            if (expected.Sha256Hex != null)
            {
                _whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            }
            _buffers = new PartBuffers(_rangeSize, options.Parallelism);
            StartFetches();
        }

        /// <summary>SHA-256 (hex) of everything read, once the end was reached; null when no whole-object SHA-256 was checked.</summary>
        public string? Sha256Hex { get; private set; }

        public string VerifiedAgainst
        {
            get
            {
                var checks = new List<string> { "size" };
                if (_expected.Sha256Hex != null)
                {
                    checks.Add(_expected.Sha256Origin ?? "SHA-256");
                }
                if (_hashRanges)
                {
                    checks.Add("server SHA-256 (composite of parts)");
                }
                return string.Join(", ", checks);
            }
        }

        public override bool CanRead => true;

        public override bool CanWrite => false;

        /// <summary>Synchronous readers (a StreamReader over a sidecar) wait for the same network fetches.</summary>
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (count == 0)
            {
                return 0;
            }
            if (_current == null || _currentOffset == _current.Length)
            {
                if (!await NextRangeAsync(cancellationToken).ConfigureAwait(false))
                {
                    Verify();
                    return 0;
                }
            }
            var take = Math.Min(count, _current!.Length - _currentOffset);
            Buffer.BlockCopy(_current.Buffer, _currentOffset, buffer, offset, take);
            _whole?.AppendData(buffer, offset, take);
            _currentOffset += take;
            _position += take;
            return take;
        }

        /// <summary>
        /// Writes the rest of the object to <paramref name="destination"/> straight from the fetch buffers, a range per write
        /// (no copy through a caller's buffer), verifying it as <see cref="ReadAsync(byte[], int, int, CancellationToken)"/>
        /// does; returns the bytes delivered in all.
        /// </summary>
        public async Task<long> CopyRangesToAsync(Stream destination, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_current == null || _currentOffset == _current.Length)
                {
                    if (!await NextRangeAsync(cancellationToken).ConfigureAwait(false))
                    {
                        Verify();
                        return _position;
                    }
                }
                var offset = _currentOffset;
                var take = _current!.Length - offset;
                _whole?.AppendData(_current.Buffer, offset, take);
                await destination.WriteAsync(_current.Buffer, offset, take, cancellationToken).ConfigureAwait(false);
                _currentOffset += take;
                _position += take;
                bytesWritten?.Report(_position);
            }
        }

        public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken) =>
            CopyRangesToAsync(destination, null, cancellationToken);

        public override void Flush()
        {
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // Fetches still running see the cancellation and end; their buffers go to the garbage collector.
                _stop.Cancel();
                _whole?.Dispose();
            }
            base.Dispose(disposing);
        }

        private void StartFetches()
        {
            while (_nextRangeStart < _expected.Length && !_stop.IsCancellationRequested && _buffers.TryTake() is { } buffer)
            {
                var length = (int)Math.Min(_rangeSize, _expected.Length - _nextRangeStart);
                _fetches.Enqueue(FetchAsync(_nextRangeStart, length, buffer));
                _nextRangeStart += length;
            }
        }

        private async Task<bool> NextRangeAsync(CancellationToken cancellationToken)
        {
            if (_current != null)
            {
                _buffers.Return(_current.Buffer);
                _current = null;
                StartFetches();
            }
            if (_fetches.Count == 0)
            {
                return false;
            }
            var next = _fetches.Dequeue();
            if (!next.IsCompleted && cancellationToken.CanBeCanceled)
            {
                // A cancelled read ends the download: stopping the fetches is what wakes this wait.
                using (cancellationToken.Register(_stop.Cancel))
                {
                    await Task.WhenAny(next).ConfigureAwait(false);
                }
                cancellationToken.ThrowIfCancellationRequested();
            }
            try
            {
                _current = await next.ConfigureAwait(false);
            }
            catch
            {
                _stop.Cancel();
                throw;
            }
            _currentOffset = 0;
            if (_hashRanges)
            {
                _rangeDigests.Add(_current.Sha256!);
            }
            return true;
        }

        private async Task<FetchedRange> FetchAsync(long start, int length, byte[] buffer)
        {
            await Task.Yield();
            var last = start + length - 1;
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    var request = new GetObjectRequest { BucketName = _bucket, Key = _key, ByteRange = new ByteRange(start, last), EtagToMatch = _expected.ETag };
                    using var response = await _client.GetObjectAsync(request, _stop.Token).ConfigureAwait(false);
                    if (response.ContentLength != length)
                    {
                        throw S3Errors.Error(S3Errors.SizeMismatch, FailureKind.CorruptData,
                            $"{_source}: asked for bytes {start}-{last}, the server answered with {response.ContentLength} bytes.", _source);
                    }
                    var filled = 0;
                    while (filled < length)
                    {
                        var read = await response.ResponseStream.ReadAsync(buffer, filled, length - filled, _stop.Token).ConfigureAwait(false);
                        if (read == 0)
                        {
                            throw new IOException($"the body of bytes {start}-{last} ended after {filled} of {length} bytes");
                        }
                        filled += read;
                    }
                    return new FetchedRange(buffer, length, _hashRanges ? S3Checksums.Sha256(buffer, length) : null);
                }
                catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
                {
                    throw S3Errors.Error(S3Errors.ObjectChanged, FailureKind.Conflict,
                        $"{_source} was replaced while it was being downloaded (its ETag is no longer {_expected.ETag}); download it again.", _source, e);
                }
                catch (Exception e) when (attempt < _maxRetries && IsBrokenTransfer(e) && !_stop.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100 << attempt), _stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException && e is not RedisRecoveryException)
                {
                    throw S3Errors.Translate(e, _source, _endpoint);
                }
            }
        }

        /// <summary>A connection lost mid-body: the SDK's own retries end when the response headers arrive.</summary>
        private static bool IsBrokenTransfer(Exception e) =>
            e is IOException or HttpRequestException ||
            (e is AmazonServiceException service && (int)service.StatusCode >= 500) ||
            (e is AmazonClientException && e is not AmazonServiceException);

        private void Verify()
        {
            if (_verified)
            {
                return;
            }
            _verified = true;
            if (_position != _expected.Length)
            {
                throw S3Errors.Error(S3Errors.SizeMismatch, FailureKind.CorruptData,
                    $"{_source}: the download ended after {_position} of {_expected.Length} bytes.", _source);
            }
            if (_whole != null)
            {
                var actual = Hex.Lower(_whole.GetHashAndReset());
                if (!string.Equals(actual, _expected.Sha256Hex, StringComparison.OrdinalIgnoreCase))
                {
                    throw Mismatch($"its SHA-256 is {actual}, but {_expected.Sha256Origin ?? "the expected one"} is {_expected.Sha256Hex}");
                }
                Sha256Hex = actual;
            }
            if (_hashRanges)
            {
                var composite = S3Checksums.Composite(_rangeDigests);
                if (!S3Checksums.SameBase64Digest(composite, _expected.CompositeBase64!))
                {
                    throw Mismatch($"the SHA-256 of its {_rangeDigests.Count} parts combine to {composite}, but the server recorded {_expected.CompositeBase64}");
                }
            }
        }

        private RedisRecoveryException Mismatch(string detail) =>
            S3Errors.Error(S3Errors.ChecksumMismatch, FailureKind.CorruptData, $"{_source} is damaged: {detail}.", _source);

        private sealed class FetchedRange
        {
            public FetchedRange(byte[] buffer, int length, byte[]? sha256)
            {
                Buffer = buffer;
                Length = length;
                Sha256 = sha256;
            }

            public byte[] Buffer { get; }

            public int Length { get; }

            /// <summary>SHA-256 of this range, when ranges are the object's parts.</summary>
            public byte[]? Sha256 { get; }
        }
    }
}
