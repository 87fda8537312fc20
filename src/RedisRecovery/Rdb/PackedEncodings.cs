using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// The compact blob encodings Redis stores inside a string (ziplist, listpack, intset, zipmap): each is checked
    /// for integrity the way Redis does before trusting it, and optionally decoded into its elements (integers as
    /// their decimal text, as Redis returns them). Methods return null when the blob is sound, else what is wrong.
    /// </summary>
    internal static class PackedEncodings
    {
        public static string? Ziplist(ReadOnlySpan<byte> blob, List<byte[]>? items, out long count)
        {
            count = 0;
            if (blob.Length < 11)
            {
                return "ziplist shorter than its header";
            }
            var totalBytes = BinaryPrimitives.ReadUInt32LittleEndian(blob);
            var tailOffset = BinaryPrimitives.ReadUInt32LittleEndian(blob.Slice(4));
            var headerCount = BinaryPrimitives.ReadUInt16LittleEndian(blob.Slice(8));
            if (totalBytes != blob.Length)
            {
                return $"ziplist header says {totalBytes} bytes but the blob holds {blob.Length}";
            }
            if (blob[blob.Length - 1] != 0xFF)
            {
                return "ziplist does not end with its terminator";
            }
            var position = 10;
            var previousLength = 0;
            var lastEntry = -1;
            while (blob[position] != 0xFF)
            {
                var start = position;
                int storedPrevious;
                if (blob[position] < 254)
                {
                    storedPrevious = blob[position];
                    position += 1;
                }
                else
                {
                    if (position + 5 > blob.Length - 1)
                    {
                        return "ziplist entry header runs past the end";
                    }
                    storedPrevious = (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.Slice(position + 1));
                    position += 5;
                }
                if (storedPrevious != previousLength)
                {
                    return $"ziplist entry at {start} records previous length {storedPrevious}, actual {previousLength}";
                }
                if (position >= blob.Length - 1)
                {
                    return "ziplist entry encoding runs past the end";
                }
                var encoding = blob[position];
                long payload;
                var header = 1;
                long? integer = null;
                switch (encoding >> 6)
                {
                    case 0:
                        payload = encoding & 0x3F;
                        break;
                    case 1:
                        if (position + 2 > blob.Length - 1)
                        {
                            return "ziplist entry encoding runs past the end";
                        }
                        payload = ((encoding & 0x3F) << 8) | blob[position + 1];
                        header = 2;
                        break;
                    case 2:
                        if (position + 5 > blob.Length - 1)
                        {
                            return "ziplist entry encoding runs past the end";
                        }
                        payload = BinaryPrimitives.ReadUInt32BigEndian(blob.Slice(position + 1));
                        header = 5;
                        break;
                    default:
                        payload = encoding switch
                        {
                            0xC0 => 2,
                            0xD0 => 4,
                            0xE0 => 8,
                            0xF0 => 3,
                            0xFE => 1,
                            _ => encoding >= 0xF1 && encoding <= 0xFD ? 0 : -1,
                        };
                        if (payload < 0)
                        {
                            return $"ziplist entry at {start} has unknown encoding 0x{encoding:X2}";
                        }
                        break;
                }
                var dataStart = position + header;
                if (dataStart + payload > blob.Length - 1)
                {
                    return $"ziplist entry at {start} runs past the end";
                }
                if (encoding >> 6 == 3)
                {
                    var data = blob.Slice(dataStart, (int)payload);
                    integer = encoding switch
                    {
                        0xC0 => BinaryPrimitives.ReadInt16LittleEndian(data),
                        0xD0 => BinaryPrimitives.ReadInt32LittleEndian(data),
                        0xE0 => BinaryPrimitives.ReadInt64LittleEndian(data),
                        0xF0 => (data[0] | (data[1] << 8) | ((sbyte)data[2] << 16)),
                        0xFE => (sbyte)data[0],
                        _ => (encoding & 0x0F) - 1,
                    };
                }
                if (items != null)
                {
                    items.Add(integer is long value ? IntegerText(value) : blob.Slice(dataStart, (int)payload).ToArray());
                }
                position = dataStart + (int)payload;
                previousLength = position - start;
                lastEntry = start;
                count++;
            }
            if (position != blob.Length - 1)
            {
                return "ziplist terminator is not the last byte";
            }
            if (lastEntry >= 0 ? tailOffset != lastEntry : tailOffset != 10)
            {
                return "ziplist tail offset does not point at the last entry";
            }
            if (headerCount != ushort.MaxValue && headerCount != count)
            {
                return $"ziplist header counts {headerCount} entries, found {count}";
            }
            return null;
        }

        public static string? Listpack(ReadOnlySpan<byte> blob, List<byte[]>? items, out long count)
        {
            count = 0;
            if (blob.Length < 7)
            {
                return "listpack shorter than its header";
            }
            var totalBytes = BinaryPrimitives.ReadUInt32LittleEndian(blob);
            var headerCount = BinaryPrimitives.ReadUInt16LittleEndian(blob.Slice(4));
            if (totalBytes != blob.Length)
            {
                return $"listpack header says {totalBytes} bytes but the blob holds {blob.Length}";
            }
            var position = 6;
            var last = blob.Length - 1;
            while (position < last && blob[position] != 0xFF)
            {
                var start = position;
                var encoding = blob[position];
                long header;
                long payload;
                long? integer = null;
                if ((encoding & 0x80) == 0)
                {
                    header = 1;
                    payload = 0;
                    integer = encoding & 0x7F;
                }
                else if ((encoding & 0xC0) == 0x80)
                {
                    header = 1;
                    payload = encoding & 0x3F;
                }
                else if ((encoding & 0xE0) == 0xC0)
                {
                    header = 2;
                    payload = 0;
                    if (position + 2 > last)
                    {
                        return "listpack entry runs past the end";
                    }
                    var raw = ((encoding & 0x1F) << 8) | blob[position + 1];
                    integer = raw >= 1 << 12 ? raw - (1 << 13) : raw;
                }
                else if ((encoding & 0xF0) == 0xE0)
                {
                    header = 2;
                    if (position + 2 > last)
                    {
                        return "listpack entry runs past the end";
                    }
                    payload = ((encoding & 0x0F) << 8) | blob[position + 1];
                }
                else
                {
                    switch (encoding)
                    {
                        case 0xF0:
                            header = 5;
                            if (position + 5 > last)
                            {
                                return "listpack entry runs past the end";
                            }
                            payload = BinaryPrimitives.ReadUInt32LittleEndian(blob.Slice(position + 1));
                            break;
                        case 0xF1:
                            header = 3;
                            payload = 0;
                            break;
                        case 0xF2:
                            header = 4;
                            payload = 0;
                            break;
                        case 0xF3:
                            header = 5;
                            payload = 0;
                            break;
                        case 0xF4:
                            header = 9;
                            payload = 0;
                            break;
                        default:
                            return $"listpack entry at {start} has unknown encoding 0x{encoding:X2}";
                    }
                    if (encoding != 0xF0)
                    {
                        if (position + header > last)
                        {
                            return "listpack entry runs past the end";
                        }
                        var data = blob.Slice(position + 1, (int)header - 1);
                        integer = encoding switch
                        {
                            0xF1 => BinaryPrimitives.ReadInt16LittleEndian(data),
                            0xF2 => data[0] | (data[1] << 8) | ((sbyte)data[2] << 16),
                            0xF3 => BinaryPrimitives.ReadInt32LittleEndian(data),
                            _ => BinaryPrimitives.ReadInt64LittleEndian(data),
                        };
                    }
                }
                var entryLength = header + payload;
                var backLength = BackLengthSize(entryLength);
                if (position + entryLength + backLength > last)
                {
                    return $"listpack entry at {start} runs past the end";
                }
                if (DecodeBackLength(blob.Slice((int)(position + entryLength), backLength)) != entryLength)
                {
                    return $"listpack entry at {start} has a wrong back length";
                }
                if (items != null)
                {
                    items.Add(integer is long value ? IntegerText(value) : blob.Slice((int)(position + header), (int)payload).ToArray());
                }
                position = (int)(position + entryLength + backLength);
                count++;
            }
            if (position != last || blob[last] != 0xFF)
            {
                return "listpack terminator is not the last byte";
            }
            if (headerCount != ushort.MaxValue && headerCount != count)
            {
                return $"listpack header counts {headerCount} entries, found {count}";
            }
            return null;
        }

        public static string? Intset(ReadOnlySpan<byte> blob, List<byte[]>? items, out long count)
        {
            count = 0;
            if (blob.Length < 8)
            {
                return "intset shorter than its header";
            }
            var width = BinaryPrimitives.ReadUInt32LittleEndian(blob);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(blob.Slice(4));
            if (width != 2 && width != 4 && width != 8)
            {
                return $"intset has invalid element width {width}";
            }
            if ((long)length * width + 8 != blob.Length)
            {
                return $"intset of {length} elements of {width} bytes does not match its {blob.Length}-byte blob";
            }
            long previous = 0;
            for (var i = 0; i < length; i++)
            {
                var at = blob.Slice(8 + i * (int)width);
                long value = width switch
                {
                    2 => BinaryPrimitives.ReadInt16LittleEndian(at),
                    4 => BinaryPrimitives.ReadInt32LittleEndian(at),
                    _ => BinaryPrimitives.ReadInt64LittleEndian(at),
                };
                if (i > 0 && value <= previous)
                {
                    return "intset elements are not in ascending order";
                }
                previous = value;
                items?.Add(IntegerText(value));
            }
            count = length;
            return null;
        }

        /// <summary>Zipmap (hashes before Redis 2.6): a count byte, then key/value pairs with their free space.</summary>
        public static string? Zipmap(ReadOnlySpan<byte> blob, List<byte[]>? items, out long count)
        {
            count = 0;
            if (blob.Length < 2)
            {
                return "zipmap shorter than its header";
            }
            var position = 1;
            var last = blob.Length - 1;
            while (position < last && blob[position] != 0xFF)
            {
                if (!ZipmapString(blob, ref position, items, hasFree: false) || !ZipmapString(blob, ref position, items, hasFree: true))
                {
                    return $"zipmap entry {count} runs past the end";
                }
                count++;
            }
            if (position != last || blob[last] != 0xFF)
            {
                return "zipmap terminator is not the last byte";
            }
            if (blob[0] < 254 && blob[0] != count)
            {
                return $"zipmap header counts {blob[0]} pairs, found {count}";
            }
            count *= 2;
            return null;
        }

        private static bool ZipmapString(ReadOnlySpan<byte> blob, ref int position, List<byte[]>? items, bool hasFree)
        {
            var last = blob.Length - 1;
            if (position >= last)
            {
                return false;
            }
            long length = blob[position];
            if (length == 254)
            {
                if (position + 5 > last)
                {
                    return false;
                }
                length = BinaryPrimitives.ReadUInt32LittleEndian(blob.Slice(position + 1));
                position += 5;
            }
            else if (length == 255)
            {
                return false;
            }
            else
            {
                position += 1;
            }
            long free = 0;
            if (hasFree)
            {
                if (position >= last)
                {
                    return false;
                }
                free = blob[position++];
            }
            if (position + length + free > last)
            {
                return false;
            }
            items?.Add(blob.Slice(position, (int)length).ToArray());
            position += (int)(length + free);
            return true;
        }

        internal static int BackLengthSize(long entryLength) =>
            entryLength <= 127 ? 1 : entryLength < 16383 ? 2 : entryLength < 2097151 ? 3 : entryLength < 268435455 ? 4 : 5;

        private static long DecodeBackLength(ReadOnlySpan<byte> bytes)
        {
            // Stored so it can be read right to left: the first byte holds the most significant 7 bits and is the only
            // one without the continuation bit.
            long value = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                var b = bytes[i];
                if (((b & 0x80) != 0) != (i > 0))
                {
                    return -1;
                }
                value = (value << 7) | (uint)(b & 0x7F);
            }
            return value;
        }

        internal static byte[] IntegerText(long value) =>
            Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
    }
}
