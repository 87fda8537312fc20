using System;
using System.Collections.Generic;
using System.Security.Cryptography;

namespace RedisRecovery.Storage.S3
{
    internal static class S3Checksums
    {
        /// <summary>S3's composite checksum: SHA-256 over the concatenated binary part digests, base64.</summary>
        public static string Composite(IReadOnlyList<byte[]> partDigests)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var digest in partDigests)
            {
                hash.AppendData(digest);
            }
            return Convert.ToBase64String(hash.GetHashAndReset());
        }

        public static byte[] Sha256(byte[] buffer, int length)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(buffer, 0, length);
            return hash.GetHashAndReset();
        }

        /// <summary>Compares base64 digests, ignoring the "-partcount" suffix S3 adds to composite checksums.</summary>
        public static bool SameBase64Digest(string left, string right) =>
            string.Equals(WithoutPartCount(left), WithoutPartCount(right), StringComparison.Ordinal);

        private static string WithoutPartCount(string value)
        {
            var dash = value.IndexOf('-');
            return dash < 0 ? value : value.Substring(0, dash);
        }
    }
}
