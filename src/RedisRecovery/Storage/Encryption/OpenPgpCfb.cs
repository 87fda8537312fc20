using System;
using System.Security.Cryptography;

namespace RedisRecovery.Storage.Encryption
{
    /// <summary>
    /// OpenPGP's CFB mode for the integrity-protected packet (RFC 4880 §5.13): plain full-block CFB from an all-zero IV,
    /// with no resynchronisation, built on .NET's AES in ECB mode (the block function). Works in place, any chunk sizes.
    /// </summary>
    internal sealed class OpenPgpCfb : IDisposable
    {
        public const int BlockSize = 16;
        private const int BatchBlocks = 4096;
        private readonly Aes _aes;
        private readonly ICryptoTransform _block;
        private readonly byte[] _register = new byte[BlockSize];
        private readonly byte[] _keystream = new byte[BlockSize];
        private byte[]? _batch;
        private int _used = BlockSize;

        public OpenPgpCfb(byte[] key)
        {
            _aes = Aes.Create();
            _aes.Mode = CipherMode.ECB;
            _aes.Padding = PaddingMode.None;
            _aes.Key = key;
            _block = _aes.CreateEncryptor();
        }

        public void Encrypt(byte[] buffer, int offset, int count)
        {
            for (var i = offset; i < offset + count; i++)
            {
                NextKeystreamBlockIfUsed();
                var cipher = (byte)(buffer[i] ^ _keystream[_used]);
                _register[_used++] = cipher;
                buffer[i] = cipher;
            }
        }

        public void Decrypt(byte[] buffer, int offset, int count)
        {
            var end = offset + count;
            var i = offset;
            while (i < end)
            {
                if (_used == BlockSize && end - i >= BlockSize)
                {
                    i = DecryptWholeBlocks(buffer, i, (end - i) / BlockSize);
                    continue;
                }
                NextKeystreamBlockIfUsed();
                var cipher = buffer[i];
                buffer[i] = (byte)(cipher ^ _keystream[_used]);
                _register[_used++] = cipher;
                i++;
            }
        }

        public void Dispose()
        {
            _block.Dispose();
            _aes.Dispose();
        }

        /// <summary>
        /// Decryption knows every ciphertext block up front, so the keystream of many blocks is one ECB call:
        /// E(register), E(C1), ..., E(Cn-1).
        /// </summary>
        private int DecryptWholeBlocks(byte[] buffer, int offset, int blocks)
        {
            blocks = Math.Min(blocks, BatchBlocks);
            var bytes = blocks * BlockSize;
            _batch ??= new byte[BatchBlocks * BlockSize];
            Buffer.BlockCopy(_register, 0, _batch, 0, BlockSize);
            Buffer.BlockCopy(buffer, offset, _batch, BlockSize, bytes - BlockSize);
            Buffer.BlockCopy(buffer, offset + bytes - BlockSize, _register, 0, BlockSize);
            _block.TransformBlock(_batch, 0, bytes, _batch, 0);
            for (var j = 0; j < bytes; j++)
            {
                buffer[offset + j] ^= _batch[j];
            }
            return offset + bytes;
        }

        private void NextKeystreamBlockIfUsed()
        {
            if (_used == BlockSize)
            {
                _block.TransformBlock(_register, 0, BlockSize, _keystream, 0);
                _used = 0;
            }
        }
    }
}
