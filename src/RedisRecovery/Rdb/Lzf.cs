using System;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// LZF as Redis uses it for compressed strings: runs of literals (control byte below 32) and back references
    /// (3-bit or extended length, 13-bit distance). Decompression checks every bound, so damaged input is reported,
    /// never read past.
    /// </summary>
    public static class Lzf
    {
        private const int MaxOffset = 1 << 13;
        private const int MaxReference = (1 << 8) + (1 << 3);
        private const int MaxLiteral = 1 << 5;
        private const int HashLog = 14;

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

        /// <summary>Compresses <paramref name="input"/>; returns the compressed length, or 0 when the result would not
        /// fit in <paramref name="output"/> (Redis then stores the string uncompressed).</summary>
        public static int Compress(ReadOnlySpan<byte> input, Span<byte> output)
        {
            if (input.Length < 4)
            {
                return 0;
            }
            var table = new int[1 << HashLog];
            var ip = 0;
            var op = 1;
            var literal = 0;
            while (ip + 2 < input.Length)
            {
                var hash = Hash(input, ip);
                var candidate = table[hash] - 1;
                table[hash] = ip + 1;
                var distance = ip - candidate - 1;
                if (candidate >= 0 && distance < MaxOffset
                    && input[candidate] == input[ip] && input[candidate + 1] == input[ip + 1] && input[candidate + 2] == input[ip + 2])
                {
                    var match = 3;
                    var maxMatch = Math.Min(MaxReference, input.Length - ip);
                    while (match < maxMatch && input[candidate + match] == input[ip + match])
                    {
                        match++;
                    }
                    var length = match - 2;
                    if (op + 4 > output.Length)
                    {
                        return 0;
                    }
                    if (literal == 0)
                    {
                        op--;
                    }
                    else
                    {
                        output[op - literal - 1] = (byte)(literal - 1);
                    }
                    if (length < 7)
                    {
                        output[op++] = (byte)((length << 5) | (distance >> 8));
                    }
                    else
                    {
                        output[op++] = (byte)((7 << 5) | (distance >> 8));
                        output[op++] = (byte)(length - 7);
                    }
                    output[op++] = (byte)distance;
                    op++;
                    literal = 0;
                    ip += match;
                    continue;
                }
                if (op >= output.Length)
                {
                    return 0;
                }
                literal++;
                output[op++] = input[ip++];
                if (literal == MaxLiteral)
                {
                    output[op - literal - 1] = (byte)(literal - 1);
                    literal = 0;
                    op++;
                }
            }
            while (ip < input.Length)
            {
                if (op >= output.Length)
                {
                    return 0;
                }
                literal++;
                output[op++] = input[ip++];
                if (literal == MaxLiteral)
                {
                    output[op - literal - 1] = (byte)(literal - 1);
                    literal = 0;
                    op++;
                }
            }
            output[op - literal - 1] = (byte)(literal - 1);
            if (literal == 0)
            {
                op--;
            }
            return op;
        }

        private static int Hash(ReadOnlySpan<byte> input, int at)
        {
            var v = (input[at] << 16) | (input[at + 1] << 8) | input[at + 2];
            return (int)(((uint)v * 2654435761u) >> (32 - HashLog));
        }
    }
}
