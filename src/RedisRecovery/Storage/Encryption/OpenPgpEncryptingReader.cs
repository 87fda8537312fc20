using System;
using System.IO;
using System.Security;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage.Encryption
{
    /// <summary>
    /// The encrypted message of a plaintext stream, produced as it is read (pull instead of push), so an upload can
    /// read ciphertext straight from a backup source without a temporary file. Memory: one 64 KiB plaintext block and
    /// the ciphertext it turned into. The message is completed only when the plaintext ended normally; a failing
    /// source fails the read, never yielding a well-formed message of half a backup.
    /// </summary>
    internal sealed class OpenPgpEncryptingReader : PipelineReadStream
    {
        private readonly Stream _plaintext;
        private readonly bool _leaveOpen;
        private readonly ByteQueue _ciphertext = new();
        private readonly OpenPgpEncryptingStream _encrypting;
        private readonly byte[] _block = new byte[64 * 1024];
        private bool _completed;

        public OpenPgpEncryptingReader(Stream plaintext, SecureString passphrase, OpenPgpEncryptionOptions? options, bool leaveOpen)
        {
            _plaintext = plaintext;
            _leaveOpen = leaveOpen;
            _encrypting = new OpenPgpEncryptingStream(_ciphertext, passphrase, options, leaveOpen: true);
        }

        public override async ValueTask<int> ReadCoreAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            while (_ciphertext.Available == 0 && !_completed)
            {
                var read = await StreamReading.ReadAsync(_plaintext, _block, 0, _block.Length, useAsync, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    _completed = true;
                    _encrypting.Complete();
                }
                else
                {
                    // The encrypting stream writes into memory only: the synchronous call never blocks.
                    _encrypting.Write(_block, 0, read);
                }
            }
            return _ciphertext.Dequeue(buffer, offset, count);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _encrypting.Dispose();
                if (!_leaveOpen)
                {
                    _plaintext.Dispose();
                }
            }
            base.Dispose(disposing);
        }

        /// <summary>A write-only stream that queues what is written until the reader takes it.</summary>
        private sealed class ByteQueue : ForwardOnlyStream
        {
            private byte[] _bytes = new byte[128 * 1024];
            private int _start;
            private int _end;

            public int Available => _end - _start;

            public override bool CanRead => false;

            public override bool CanWrite => true;

            public int Dequeue(byte[] buffer, int offset, int count)
            {
                var take = Math.Min(count, Available);
                Buffer.BlockCopy(_bytes, _start, buffer, offset, take);
                _start += take;
                if (_start == _end)
                {
                    _start = _end = 0;
                }
                return take;
            }

            public override void Write(byte[] buffer, int offset, int count)
            {
                if (_end + count > _bytes.Length)
                {
                    Buffer.BlockCopy(_bytes, _start, _bytes, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                    if (_end + count > _bytes.Length)
                    {
                        Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _end + count));
                    }
                }
                Buffer.BlockCopy(buffer, offset, _bytes, _end, count);
                _end += count;
            }

            public override void Flush()
            {
            }

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
