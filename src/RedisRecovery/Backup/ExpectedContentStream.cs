using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage.Encryption;
using RedisRecovery.Storage.S3;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// Passes a backup's bytes through and fails the read that would end them unless their size and SHA-256 are the
    /// ones its sidecar recorded. A store commits an object only once its content ended normally, so a copy of damaged
    /// bytes is never committed.
    /// </summary>
    internal sealed class ExpectedContentStream : PipelineReadStream
    {
        private readonly Stream _inner;
        private readonly long? _expectedLength;
        private readonly string _expectedSha256;
        private readonly string _source;
        private readonly IProgress<long>? _bytesRead;
        private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private bool _verified;

        public ExpectedContentStream(Stream inner, long? expectedLength, string expectedSha256, string source, IProgress<long>? bytesRead = null)
        {
            _inner = inner;
            _expectedLength = expectedLength;
            _expectedSha256 = expectedSha256;
            _source = source;
            _bytesRead = bytesRead;
        }

        public long BytesRead { get; private set; }

        /// <summary>Runs before the end is confirmed: e.g. the ciphertext's own check once the plaintext ended.</summary>
        public Func<CancellationToken, Task>? BeforeEnd { get; set; }

        public override async ValueTask<int> ReadCoreAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            var read = await StreamReading.ReadAsync(_inner, buffer, offset, count, useAsync, cancellationToken).ConfigureAwait(false);
            if (read > 0)
            {
                _sha256.AppendData(buffer, offset, read);
                BytesRead += read;
                _bytesRead?.Report(BytesRead);
                if (BytesRead > _expectedLength)
                {
                    throw Mismatch($"it holds more than the {_expectedLength} bytes its sidecar recorded");
                }
                return read;
            }
            if (!_verified)
            {
                if (BeforeEnd != null)
                {
                    await BeforeEnd(cancellationToken).ConfigureAwait(false);
                }
                if (_expectedLength is long length && BytesRead != length)
                {
                    throw Mismatch($"it ended after {BytesRead} bytes, but its sidecar recorded {length}");
                }
                var actual = Hex.Lower(_sha256.GetHashAndReset());
                if (!string.Equals(actual, _expectedSha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw Mismatch($"its SHA-256 is {actual}, but its sidecar recorded {_expectedSha256}");
                }
                _verified = true;
            }
            return 0;
        }

        /// <summary>Reads what is left (nothing, for a well-formed message) so that the end is verified.</summary>
        public async Task VerifyToEndAsync(CancellationToken cancellationToken) =>
            await StreamReading.DrainAsync(this, useAsync: true, cancellationToken).ConfigureAwait(false);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _sha256.Dispose();
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }

        private RedisRecoveryException Mismatch(string what) =>
            new("BackupChecksumMismatch", FailureKind.CorruptData, $"{_source} is damaged: {what}. Nothing was written.") { Target = _source };
    }
}
