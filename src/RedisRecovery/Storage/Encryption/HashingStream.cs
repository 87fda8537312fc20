using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage.S3;

namespace RedisRecovery.Storage.Encryption
{
    /// <summary>Passes bytes through to or from another stream, counting them and computing their SHA-256.</summary>
    internal sealed class HashingStream : ForwardOnlyStream
    {
        private readonly Stream _inner;
        private readonly bool _reading;
        private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public HashingStream(Stream inner, bool reading)
        {
            _inner = inner;
            _reading = reading;
        }

        public long BytesSeen { get; private set; }

        public override bool CanRead => _reading;

        public override bool CanWrite => !_reading;

        public override long Position
        {
            get => BytesSeen;
            set => throw new NotSupportedException();
        }

        /// <summary>SHA-256 (lowercase hex) of everything seen so far; call once, at the end.</summary>
        public string Sha256Hex() => Hex.Lower(_sha256.GetHashAndReset());

        public override int Read(byte[] buffer, int offset, int count) => Seen(buffer, offset, _inner.Read(buffer, offset, count));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Seen(buffer, offset, await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false));

        public override void Write(byte[] buffer, int offset, int count)
        {
            _inner.Write(buffer, offset, count);
            Seen(buffer, offset, count);
        }

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            await _inner.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            Seen(buffer, offset, count);
        }

        public override void Flush() => _inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _sha256.Dispose();
            }
            base.Dispose(disposing);
        }

        private int Seen(byte[] buffer, int offset, int count)
        {
            _sha256.AppendData(buffer, offset, count);
            BytesSeen += count;
            return count;
        }
    }
}
