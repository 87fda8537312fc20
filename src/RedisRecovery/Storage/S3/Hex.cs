using System;

namespace RedisRecovery.Storage.S3
{
    /// <summary>Lowercase hex for digests (netstandard2.0 has no Convert.ToHexString).</summary>
    internal static class Hex
    {
        public static string Lower(byte[] bytes)
        {
            var chars = new char[bytes.Length * 2];
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = Digit(bytes[i] >> 4);
                chars[2 * i + 1] = Digit(bytes[i] & 0xF);
            }
            return new string(chars);
        }

        /// <summary>True for a SHA-256 written as 64 hex digits (either case).</summary>
        public static bool IsSha256(string text)
        {
            if (text.Length != 64)
            {
                return false;
            }
            foreach (var c in text)
            {
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                {
                    return false;
                }
            }
            return true;
        }

        private static char Digit(int value) => (char)(value < 10 ? '0' + value : 'a' + value - 10);
    }
}
