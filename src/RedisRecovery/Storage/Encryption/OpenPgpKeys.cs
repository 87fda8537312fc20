using System;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Text;

namespace RedisRecovery.Storage.Encryption
{
    /// <summary>The algorithm numbers of RFC 4880 §9 that this implementation knows, and the S2K key derivation (§3.7).</summary>
    internal static class OpenPgpKeys
    {
        public const byte Aes128 = 7;
        public const byte Aes192 = 8;
        public const byte Aes256 = 9;
        public const byte Sha256 = 8;

        public static int KeyLength(byte cipher, string source) => cipher switch
        {
            Aes128 => 16,
            Aes192 => 24,
            Aes256 => 32,
            _ => throw OpenPgpErrors.Unsupported(source, $"the cipher {CipherName(cipher)}"),
        };

        public static string CipherName(byte cipher) => cipher switch
        {
            1 => "IDEA",
            2 => "TripleDES",
            3 => "CAST5",
            4 => "Blowfish",
            Aes128 => "AES128",
            Aes192 => "AES192",
            Aes256 => "AES256",
            10 => "Twofish",
            11 or 12 or 13 => "Camellia",
            _ => $"algorithm {cipher}",
        };

        public static HashAlgorithmName Hash(byte algorithm, string source) => algorithm switch
        {
            1 => HashAlgorithmName.MD5,
            2 => HashAlgorithmName.SHA1,
            8 => HashAlgorithmName.SHA256,
            9 => HashAlgorithmName.SHA384,
            10 => HashAlgorithmName.SHA512,
            _ => throw OpenPgpErrors.Unsupported(source, $"the S2K hash algorithm {algorithm}"),
        };

        /// <summary>The iteration count a one-byte S2K count codes for.</summary>
        public static long DecodeCount(byte coded) => (16L + (coded & 15)) << ((coded >> 4) + 6);

        /// <summary>The smallest coded count whose byte count is at least <paramref name="bytes"/> (max 65011712).</summary>
        public static byte EncodeCount(long bytes)
        {
            for (var coded = 0; coded < 255; coded++)
            {
                if (DecodeCount((byte)coded) >= bytes)
                {
                    return (byte)coded;
                }
            }
            return 255;
        }

        /// <summary>
        /// Derives a key from the passphrase: simple (type 0), salted (1) or iterated and salted (3). Keys longer than the
        /// hash use further hash contexts preloaded with one more zero byte each.
        /// </summary>
        public static byte[] DeriveKey(byte[] passphrase, HashAlgorithmName hashName, byte[]? salt, long count, int keyLength)
        {
            var key = new byte[keyLength];
            var material = new byte[(salt?.Length ?? 0) + passphrase.Length];
            salt?.CopyTo(material, 0);
            passphrase.CopyTo(material, salt?.Length ?? 0);
            var total = Math.Max(count, material.Length);
            // Hashing 65 MB ten bytes at a time is slow: feed a block of whole repetitions instead.
            var repetitions = Math.Max(1, 65536 / material.Length);
            var block = new byte[material.Length * repetitions];
            for (var i = 0; i < repetitions; i++)
            {
                material.CopyTo(block, i * material.Length);
            }
            var filled = 0;
            for (var context = 0; filled < keyLength; context++)
            {
                using var hash = IncrementalHash.CreateHash(hashName);
                hash.AppendData(new byte[context]);
                var fed = 0L;
                while (fed + block.Length <= total)
                {
                    hash.AppendData(block);
                    fed += block.Length;
                }
                hash.AppendData(block, 0, (int)(total - fed));
                var digest = hash.GetHashAndReset();
                var take = Math.Min(digest.Length, keyLength - filled);
                Buffer.BlockCopy(digest, 0, key, filled, take);
                filled += take;
            }
            Array.Clear(material, 0, material.Length);
            Array.Clear(block, 0, block.Length);
            return key;
        }

        /// <summary>The passphrase as UTF-8 bytes (what gpg hashes); the caller clears them after use.</summary>
        public static byte[] Utf8(SecureString passphrase)
        {
            if (passphrase.Length == 0)
            {
                throw new RedisRecoveryException("OpenPgpEmptyPassphrase", FailureKind.InvalidArgument, "The passphrase is empty.");
            }
            var pointer = Marshal.SecureStringToGlobalAllocUnicode(passphrase);
            var chars = new char[passphrase.Length];
            try
            {
                Marshal.Copy(pointer, chars, 0, chars.Length);
                return Encoding.UTF8.GetBytes(chars);
            }
            finally
            {
                Array.Clear(chars, 0, chars.Length);
                Marshal.ZeroFreeGlobalAllocUnicode(pointer);
            }
        }
    }
}
