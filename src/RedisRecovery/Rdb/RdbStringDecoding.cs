using System;
using System.Buffers.Binary;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// The plain bytes of a serialized RDB string (a type-0 value): raw strings are sliced, integer-encoded ones
    /// turned into their decimal text, LZF-compressed ones decompressed. This is what a restore sends with MSET,
    /// where RESTORE would have taken the serialized form as it is.
    /// </summary>
    internal static class RdbStringDecoding
    {
        /// <summary>
        /// The string's bytes, or false when <paramref name="serialized"/> is not exactly one well-formed string
        /// (the caller then hands the serialized form to RESTORE, and the server judges it).
        /// </summary>
        public static bool TryDecode(ReadOnlyMemory<byte> serialized, out ReadOnlyMemory<byte> plain)
        {
            plain = default;
            var span = serialized.Span;
            if (!TryReadLength(span, out var length, out var encoded, out var size))
            {
                return false;
            }
            if (!encoded)
            {
                if (length != (ulong)(span.Length - size))
                {
                    return false;
                }
                plain = serialized.Slice(size);
                return true;
            }
            var rest = span.Slice(size);
            switch (length)
            {
                case 0 when rest.Length == 1:
                    plain = PackedEncodings.IntegerText((sbyte)rest[0]);
                    return true;
                case 1 when rest.Length == 2:
                    plain = PackedEncodings.IntegerText(BinaryPrimitives.ReadInt16LittleEndian(rest));
                    return true;
                case 2 when rest.Length == 4:
                    plain = PackedEncodings.IntegerText(BinaryPrimitives.ReadInt32LittleEndian(rest));
                    return true;
                case 3:
                    return TryDecompress(rest, out plain);
                default:
                    return false;
            }
        }

        private static bool TryDecompress(ReadOnlySpan<byte> lzf, out ReadOnlyMemory<byte> plain)
        {
            plain = default;
            if (!TryReadLength(lzf, out var compressed, out var compressedMarker, out var compressedSize) || compressedMarker
                || !TryReadLength(lzf.Slice(compressedSize), out var plainLength, out var plainMarker, out var plainSize) || plainMarker)
            {
                return false;
            }
            var body = lzf.Slice(compressedSize + plainSize);
            if (compressed != (ulong)body.Length || plainLength > (ulong)body.Length * Lzf.MaxExpansion)
            {
                return false;
            }
            var output = new byte[plainLength];
            if (!Lzf.TryDecompress(body, output))
            {
                return false;
            }
            plain = output;
            return true;
        }

        /// <summary>Reads a length prefix (or a string-encoding marker, <paramref name="encoded"/>) from the start of
        /// <paramref name="buffered"/> without consuming it; false when not all of it is there.</summary>
        internal static bool TryReadLength(ReadOnlySpan<byte> buffered, out ulong value, out bool encoded, out int size)
        {
            value = 0;
            encoded = false;
            size = 0;
            if (buffered.IsEmpty)
            {
                return false;
            }
            var first = buffered[0];
            switch (first >> 6)
            {
                case 0:
                    value = (ulong)(first & 0x3F);
                    size = 1;
                    return true;
                case 1:
                    if (buffered.Length < 2)
                    {
                        return false;
                    }
                    value = (ulong)(((first & 0x3F) << 8) | buffered[1]);
                    size = 2;
                    return true;
                case 2:
                    if (first == 0x80 && buffered.Length >= 5)
                    {
                        value = BinaryPrimitives.ReadUInt32BigEndian(buffered.Slice(1));
                        size = 5;
                        return true;
                    }
                    if (first == 0x81 && buffered.Length >= 9)
                    {
                        value = BinaryPrimitives.ReadUInt64BigEndian(buffered.Slice(1));
                        size = 9;
                        return true;
                    }
                    return false;
                default:
                    value = (ulong)(first & 0x3F);
                    encoded = true;
                    size = 1;
                    return true;
            }
        }
    }
}
