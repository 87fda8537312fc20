using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Backup
{
    /// <summary>SHA-256 as the lowercase hex text that sidecars record.</summary>
    public static class Sha256Hex
    {
        public const int Length = 64;

        /// <summary>Hashes the stream from its current position to its end, in constant memory.</summary>
        public static async Task<string> ComputeAsync(Stream content, CancellationToken cancellationToken)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            int read;
            while ((read = await content.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
            return ToHex(hash.GetHashAndReset());
        }

        public static bool IsValid(string? text)
        {
            if (text == null || text.Length != Length)
            {
                return false;
            }
            foreach (var c in text)
            {
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                {
                    return false;
                }
            }
            return true;
        }

        internal static string ToHex(byte[] bytes)
        {
            const string digits = "0123456789abcdef";
            var chars = new char[bytes.Length * 2];
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = digits[bytes[i] >> 4];
                chars[2 * i + 1] = digits[bytes[i] & 0xF];
            }
            return new string(chars);
        }
    }

    /// <summary>
    /// A write-only view of a stream that hashes (SHA-256) and counts every byte on its way through, so a backup's
    /// checksum costs no second read. Disposing it leaves the inner stream open: the writer owns that.
    /// </summary>
    internal sealed class HashingWriteStream : Stream
    {
        private readonly Stream _inner;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly IProgress<long>? _progress;

        public HashingWriteStream(Stream inner, IProgress<long>? progress)
        {
            _inner = inner;
            _progress = progress;
        }

        public long BytesWritten { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => BytesWritten;

        public override long Position
        {
            get => BytesWritten;
            set => throw new NotSupportedException();
        }

        /// <summary>The hex SHA-256 of everything written; call once, after the last write.</summary>
        public string FinishHash() => Sha256Hex.ToHex(_hash.GetHashAndReset());

        public override void Write(byte[] buffer, int offset, int count)
        {
            _inner.Write(buffer, offset, count);
            Account(buffer, offset, count);
        }

        // Hashing runs while the inner write is in flight: the two together cost little more than the slower one.
        // Safe because a caller may not touch the buffer until the returned task completes.
        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            var writing = _inner.WriteAsync(buffer, offset, count, cancellationToken);
            Account(buffer, offset, count);
            await writing.ConfigureAwait(false);
        }

#if NET8_0_OR_GREATER
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _inner.Write(buffer);
            _hash.AppendData(buffer);
            Advance(buffer.Length);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var writing = _inner.WriteAsync(buffer, cancellationToken);
            _hash.AppendData(buffer.Span);
            Advance(buffer.Length);
            await writing.ConfigureAwait(false);
        }
#endif

        public override void Flush() => _inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }
            base.Dispose(disposing);
        }

        private void Account(byte[] buffer, int offset, int count)
        {
            _hash.AppendData(buffer, offset, count);
            Advance(count);
        }

        private void Advance(int count)
        {
            BytesWritten += count;
            _progress?.Report(BytesWritten);
        }
    }
}
