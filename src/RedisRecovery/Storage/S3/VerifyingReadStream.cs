using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;

namespace RedisRecovery.Storage.S3
{
    /// <summary>What a download must match; any null member is not checked.</summary>
    internal sealed class DownloadExpectations
    {
        public long Length { get; set; }

        /// <summary>SHA-256 of the whole object, lowercase hex (from the caller's sidecar, the server or our metadata).</summary>
        public string? Sha256Hex { get; set; }

        public string? Sha256Origin { get; set; }

        /// <summary>Base64 of SHA-256 over the concatenated part digests, as S3 reports for multipart objects.</summary>
        public string? CompositeBase64 { get; set; }

        public long CompositePartSize { get; set; }
    }

    /// <summary>
    /// Passes the downloaded bytes through while hashing them, and at the end of the stream checks the length and the
    /// digests: a mismatch throws before the reader sees end-of-stream, so nobody mistakes damaged bytes for a backup.
    /// </summary>
    internal sealed class VerifyingReadStream : Stream
    {
        private readonly Stream _inner;
        private readonly IDisposable _owner;
        private readonly string _source;
        private readonly DownloadExpectations _expected;
        private readonly IncrementalHash _whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly IncrementalHash? _part;
        private readonly List<byte[]> _partDigests = new();
        private long _partFilled;
        private long _position;
        private bool _verified;

        public VerifyingReadStream(Stream inner, IDisposable owner, string source, DownloadExpectations expected)
        {
            _inner = inner;
            _owner = owner;
            _source = source;
            _expected = expected;
            if (expected.CompositeBase64 != null && expected.CompositePartSize > 0)
            {
                _part = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            }
        }

        /// <summary>SHA-256 (hex) of everything read, available once the end was reached and verified.</summary>
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
                if (_part != null)
                {
                    checks.Add("server SHA-256 (composite of parts)");
                }
                return string.Join(", ", checks);
            }
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _expected.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return Observe(buffer, offset, count, _inner.Read(buffer, offset, count));
            }
            catch (AmazonClientException e)
            {
                throw Translate(e);
            }
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            try
            {
                return Observe(buffer, offset, count, await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false));
            }
            catch (AmazonClientException e)
            {
                throw Translate(e);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                _owner.Dispose();
                _whole.Dispose();
                _part?.Dispose();
            }
            base.Dispose(disposing);
        }

        private int Observe(byte[] buffer, int offset, int count, int read)
        {
            if (read == 0)
            {
                if (count > 0 && !_verified)
                {
                    Verify();
                }
                return 0;
            }
            _whole.AppendData(buffer, offset, read);
            if (_part != null)
            {
                HashParts(buffer, offset, read);
            }
            _position += read;
            if (_position > _expected.Length)
            {
                throw S3Errors.Error(S3Errors.SizeMismatch, FailureKind.CorruptData,
                    $"{_source}: the server sent more than the {_expected.Length} bytes it announced.", _source);
            }
            return read;
        }

        private void HashParts(byte[] buffer, int offset, int count)
        {
            while (count > 0)
            {
                var take = (int)Math.Min(count, _expected.CompositePartSize - _partFilled);
                _part!.AppendData(buffer, offset, take);
                _partFilled += take;
                offset += take;
                count -= take;
                if (_partFilled == _expected.CompositePartSize)
                {
                    _partDigests.Add(_part.GetHashAndReset());
                    _partFilled = 0;
                }
            }
        }

        private void Verify()
        {
            _verified = true;
            if (_position != _expected.Length)
            {
                throw S3Errors.Error(S3Errors.SizeMismatch, FailureKind.CorruptData,
                    $"{_source}: the download ended after {_position} of {_expected.Length} bytes.", _source);
            }
            var actual = Hex.Lower(_whole.GetHashAndReset());
            if (_expected.Sha256Hex != null && !string.Equals(actual, _expected.Sha256Hex, StringComparison.OrdinalIgnoreCase))
            {
                throw Mismatch($"its SHA-256 is {actual}, but {_expected.Sha256Origin ?? "the expected one"} is {_expected.Sha256Hex}");
            }
            if (_part != null)
            {
                if (_partFilled > 0)
                {
                    _partDigests.Add(_part.GetHashAndReset());
                }
                var composite = S3Checksums.Composite(_partDigests);
                if (!S3Checksums.SameBase64Digest(composite, _expected.CompositeBase64!))
                {
                    throw Mismatch($"the SHA-256 of its {_partDigests.Count} parts combine to {composite}, but the server recorded {_expected.CompositeBase64}");
                }
            }
            Sha256Hex = actual;
        }

        /// <summary>The SDK checks a full-object checksum the server sent as the last byte is read; its verdict is a mismatch too.</summary>
        private RedisRecoveryException Translate(AmazonClientException e) =>
            e.Message.IndexOf("hash", StringComparison.OrdinalIgnoreCase) >= 0 || e.Message.IndexOf("checksum", StringComparison.OrdinalIgnoreCase) >= 0
                ? S3Errors.Error(S3Errors.ChecksumMismatch, FailureKind.CorruptData,
                    $"{_source} is damaged: its bytes do not match the SHA-256 checksum the server recorded ({e.Message}).", _source, e)
                : S3Errors.Translate(e, _source, "the server");

        private RedisRecoveryException Mismatch(string detail) =>
            S3Errors.Error(S3Errors.ChecksumMismatch, FailureKind.CorruptData, $"{_source} is damaged: {detail}.", _source);
    }
}
