using System;
using System.Buffers.Binary;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// SHA-1 (FIPS 180-4) in managed code, for the digest's short inputs: a dataset digest takes about five SHA-1s per
    /// key, mostly of 20-byte digests and short keys, where the call into the platform's library costs several times
    /// the hashing itself (measured: 600-1000 ns a call against about 200 ns here). Long inputs go to the platform.
    /// Not for security: DEBUG DIGEST's SHA-1 is a checksum.
    /// </summary>
    internal static class ShortSha1
    {
        /// <summary>Inputs up to this length are hashed here; longer ones by the platform, faster per byte.</summary>
        public const int MaxLength = 2048;

        private const int BlockSize = 64;

        public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
        {
            Span<uint> state = stackalloc uint[] { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
            Span<uint> schedule = stackalloc uint[80];
            var whole = data.Length / BlockSize * BlockSize;
            for (var offset = 0; offset < whole; offset += BlockSize)
            {
                Compress(state, schedule, data.Slice(offset, BlockSize));
            }

            // The tail, the 0x80 marker and the message length in bits fill one or two final blocks.
            Span<byte> tail = stackalloc byte[2 * BlockSize];
            tail.Clear();
            var rest = data.Slice(whole);
            rest.CopyTo(tail);
            tail[rest.Length] = 0x80;
            var tailLength = rest.Length + 9 <= BlockSize ? BlockSize : 2 * BlockSize;
            BinaryPrimitives.WriteUInt64BigEndian(tail.Slice(tailLength - 8), (ulong)data.Length * 8);
            for (var offset = 0; offset < tailLength; offset += BlockSize)
            {
                Compress(state, schedule, tail.Slice(offset, BlockSize));
            }
            for (var i = 0; i < state.Length; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(i * 4), state[i]);
            }
        }

        private static void Compress(Span<uint> state, Span<uint> w, ReadOnlySpan<byte> block)
        {
            for (var t = 0; t < 16; t++)
            {
                w[t] = BinaryPrimitives.ReadUInt32BigEndian(block.Slice(t * 4));
            }
            for (var t = 16; t < 80; t++)
            {
                w[t] = RotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
            }
            uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
            for (var t = 0; t < 80; t++)
            {
                uint f, k;
                if (t < 20)
                {
                    f = (b & c) | (~b & d);
                    k = 0x5A827999;
                }
                else if (t < 40)
                {
                    f = b ^ c ^ d;
                    k = 0x6ED9EBA1;
                }
                else if (t < 60)
                {
                    f = (b & c) | (b & d) | (c & d);
                    k = 0x8F1BBCDC;
                }
                else
                {
                    f = b ^ c ^ d;
                    k = 0xCA62C1D6;
                }
                var next = RotateLeft(a, 5) + f + e + k + w[t];
                e = d;
                d = c;
                c = RotateLeft(b, 30);
                b = a;
                a = next;
            }
            state[0] += a;
            state[1] += b;
            state[2] += c;
            state[3] += d;
            state[4] += e;
        }

        private static uint RotateLeft(uint value, int count) => (value << count) | (value >> (32 - count));
    }
}
