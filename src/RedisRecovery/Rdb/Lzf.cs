using System;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// LZF as Redis uses it for compressed strings: runs of literals (control byte below 32) and back references
    /// (3-bit or extended length, 13-bit distance). Every bound is checked, so damaged input is reported, never read
    /// past. (Writing copies values as serialized, so only decompression is needed.)
    /// </summary>
    public static class Lzf
    {
        /// <summary>The most bytes one compressed byte can stand for: the longest back reference takes 3 bytes and
        /// yields 264. A stated uncompressed length beyond this ratio is damage, found before allocating for it.</summary>
        public const long MaxExpansion = 88;

        /// <summary>Decompresses into <paramref name="output"/>; returns false when the input is malformed or does not
        /// produce exactly output.Length bytes.</summary>
        public static bool TryDecompress(ReadOnlySpan<byte> input, Span<byte> output)
        {
            var ip = 0;
            var op = 0;
            while (ip < input.Length)
            {
                int control = input[ip++];
                if (control < 32)
                {
                    var literal = control + 1;
                    if (ip + literal > input.Length || op + literal > output.Length)
                    {
                        return false;
                    }
                    input.Slice(ip, literal).CopyTo(output.Slice(op));
                    ip += literal;
                    op += literal;
                    continue;
                }
                var length = control >> 5;
                if (length == 7)
                {
                    if (ip >= input.Length)
                    {
                        return false;
                    }
                    length += input[ip++];
                }
                if (ip >= input.Length)
                {
                    return false;
                }
                var reference = op - ((control & 0x1f) << 8) - 1 - input[ip++];
                length += 2;
                if (reference < 0 || op + length > output.Length)
                {
                    return false;
                }
                // A reference may overlap what it produces (that is how LZF encodes runs): the bytes from the reference
                // on repeat with the period op - reference, so copy in chunks that never overlap and double each time.
                var end = op + length;
                while (op < end)
                {
                    var chunk = Math.Min(end - op, op - reference);
                    output.Slice(reference, chunk).CopyTo(output.Slice(op));
                    op += chunk;
                }
            }
            return op == output.Length;
        }
    }
}
