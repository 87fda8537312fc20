using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage.Encryption
{
    /// <summary>
    /// The decrypted contents of an integrity-protected packet, minus its trailing modification detection code: the
    /// last 22 decrypted bytes are held back, and the end of the stream is reported only after they proved to be an MDC
    /// packet whose SHA-1 covers every byte before it (RFC 4880 §5.13-5.14).
    /// </summary>
    internal sealed class IntegrityProtectedStream : PipelineReadStream
    {
        private const int MdcPacketLength = 22;
        private readonly Stream _ciphertext;
        private readonly OpenPgpCfb _cfb;
        private readonly string _source;
        private readonly Func<long> _filePosition;
        private readonly IncrementalHash _sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        private readonly byte[] _window = new byte[64 * 1024];
        private int _start;
        private int _end;
        private bool _ended;
        private bool _verified;

        public IntegrityProtectedStream(Stream ciphertext, OpenPgpCfb cfb, byte[] decryptedPrefix, string source, Func<long> filePosition)
        {
            _ciphertext = ciphertext;
            _cfb = cfb;
            _source = source;
            _filePosition = filePosition;
            _sha1.AppendData(decryptedPrefix);
        }

        /// <summary>Offset of the next byte in the decrypted data (after the random prefix), for messages.</summary>
        public long DecryptedOffset { get; private set; }

        public override async ValueTask<int> ReadCoreAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            while (!_ended && _end - _start <= MdcPacketLength)
            {
                if (_start > 0)
                {
                    Buffer.BlockCopy(_window, _start, _window, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                var read = await StreamReading.ReadAsync(_ciphertext, _window, _end, _window.Length - _end, useAsync, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    _ended = true;
                }
                else
                {
                    _cfb.Decrypt(_window, _end, read);
                    _end += read;
                }
            }
            var available = _end - _start - MdcPacketLength;
            if (available <= 0)
            {
                if (!_verified)
                {
                    Verify();
                }
                return 0;
            }
            var take = Math.Min(count, available);
            Buffer.BlockCopy(_window, _start, buffer, offset, take);
            _sha1.AppendData(buffer, offset, take);
            _start += take;
            DecryptedOffset += take;
            return take;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _sha1.Dispose();
                _cfb.Dispose();
            }
            base.Dispose(disposing);
        }

        private void Verify()
        {
            if (_end - _start < MdcPacketLength || _window[_start] != 0xD3 || _window[_start + 1] != 0x14)
            {
                throw OpenPgpErrors.Corrupt(_source, _filePosition(),
                    "the modification detection code at the end of the encrypted data, but it is missing (truncated or damaged file)");
            }
            _sha1.AppendData(_window, _start, 2);
            var expected = _sha1.GetHashAndReset();
            for (var i = 0; i < expected.Length; i++)
            {
                if (expected[i] != _window[_start + 2 + i])
                {
                    throw OpenPgpErrors.Corrupt(_source, _filePosition(),
                        "a matching modification detection code (OpenPGP integrity check), but it differs: the file was modified or damaged");
                }
            }
            _verified = true;
        }
    }
}
