using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage.Encryption
{
    internal enum BodyLength
    {
        /// <summary>Exactly Length bytes.</summary>
        Definite,

        /// <summary>A chunk of Length bytes followed by another length (new-format partial body lengths).</summary>
        Partial,

        /// <summary>Up to the end of the enclosing data (old-format length type 3).</summary>
        Indeterminate,
    }

    internal readonly struct PacketHeader
    {
        public PacketHeader(int tag, BodyLength kind, long length, long offset)
        {
            Tag = tag;
            Kind = kind;
            Length = length;
            Offset = offset;
        }

        public int Tag { get; }

        public BodyLength Kind { get; }

        public long Length { get; }

        /// <summary>Where the header started, for error messages.</summary>
        public long Offset { get; }
    }

    /// <summary>Packet tags (RFC 4880 §4.3) and the header and length encodings of §4.2.</summary>
    internal static class OpenPgpPackets
    {
        public const int SymmetricKeyEncryptedSessionKey = 3;
        public const int Compressed = 8;
        public const int SymmetricallyEncrypted = 9;
        public const int Marker = 10;
        public const int LiteralData = 11;
        public const int IntegrityProtected = 18;

        /// <summary>
        /// Reads one packet header; null at a clean end of data. <paramref name="position"/> gives the offset of the next
        /// byte of <paramref name="stream"/>, for messages.
        /// </summary>
        public static async ValueTask<PacketHeader?> ReadHeaderAsync(Stream stream, string source, Func<long> position, bool useAsync,
            CancellationToken cancellationToken)
        {
            var offset = position();
            var octet = new byte[1];
            if (await StreamReading.ReadFullyAsync(stream, octet, 0, 1, useAsync, cancellationToken).ConfigureAwait(false) == 0)
            {
                return null;
            }
            var tagByte = octet[0];
            if ((tagByte & 0x80) == 0)
            {
                throw OpenPgpErrors.Corrupt(source, offset, $"an OpenPGP packet header (a byte with the high bit set), found 0x{tagByte:X2}");
            }
            if ((tagByte & 0x40) != 0)
            {
                var (kind, length) = await ReadNewLengthAsync(stream, source, position, useAsync, cancellationToken).ConfigureAwait(false);
                return new PacketHeader(tagByte & 0x3F, kind, length, offset);
            }
            var tag = (tagByte >> 2) & 0x0F;
            var lengthType = tagByte & 3;
            if (lengthType == 3)
            {
                return new PacketHeader(tag, BodyLength.Indeterminate, -1, offset);
            }
            var size = 1 << lengthType;
            var bytes = await ReadExactAsync(stream, size, source, position, "the length of an old-format packet", useAsync, cancellationToken).ConfigureAwait(false);
            long value = 0;
            foreach (var b in bytes)
            {
                value = (value << 8) | b;
            }
            return new PacketHeader(tag, BodyLength.Definite, value, offset);
        }

        /// <summary>A new-format body length (§4.2.2): one, two or five octets, or a partial body length.</summary>
        public static async ValueTask<(BodyLength Kind, long Length)> ReadNewLengthAsync(Stream stream, string source, Func<long> position,
            bool useAsync, CancellationToken cancellationToken)
        {
            var first = (await ReadExactAsync(stream, 1, source, position, "a packet length", useAsync, cancellationToken).ConfigureAwait(false))[0];
            if (first < 192)
            {
                return (BodyLength.Definite, first);
            }
            if (first < 224)
            {
                var second = (await ReadExactAsync(stream, 1, source, position, "a two-octet packet length", useAsync, cancellationToken).ConfigureAwait(false))[0];
                return (BodyLength.Definite, ((first - 192) << 8) + second + 192);
            }
            if (first == 255)
            {
                var four = await ReadExactAsync(stream, 4, source, position, "a five-octet packet length", useAsync, cancellationToken).ConfigureAwait(false);
                return (BodyLength.Definite, ((long)four[0] << 24) | ((long)four[1] << 16) | ((long)four[2] << 8) | four[3]);
            }
            return (BodyLength.Partial, 1L << (first & 0x1F));
        }

        public static async ValueTask<byte[]> ReadExactAsync(Stream stream, int count, string source, Func<long> position, string what,
            bool useAsync, CancellationToken cancellationToken)
        {
            var bytes = new byte[count];
            if (await StreamReading.ReadFullyAsync(stream, bytes, 0, count, useAsync, cancellationToken).ConfigureAwait(false) < count)
            {
                throw OpenPgpErrors.Corrupt(source, position(), $"{what}, but the data ended (truncated file)");
            }
            return bytes;
        }

        /// <summary>Writes a new-format definite length: 1, 2 or 5 octets.</summary>
        public static int EncodeDefiniteLength(long length, byte[] into)
        {
            if (length < 192)
            {
                into[0] = (byte)length;
                return 1;
            }
            if (length < 8384)
            {
                into[0] = (byte)(((length - 192) >> 8) + 192);
                into[1] = (byte)(length - 192);
                return 2;
            }
            into[0] = 255;
            into[1] = (byte)(length >> 24);
            into[2] = (byte)(length >> 16);
            into[3] = (byte)(length >> 8);
            into[4] = (byte)length;
            return 5;
        }
    }

    /// <summary>
    /// The body of one packet read from its enclosing data, following partial body lengths chunk by chunk; ends where
    /// the packet ends, and reports a truncated file when the enclosing data ends first.
    /// </summary>
    internal sealed class PacketBodyStream : PipelineReadStream
    {
        private readonly Stream _enclosing;
        private readonly string _source;
        private readonly Func<long> _position;
        private BodyLength _kind;
        private long _remaining;

        public PacketBodyStream(Stream enclosing, PacketHeader header, string source, Func<long> position)
        {
            _enclosing = enclosing;
            _source = source;
            _position = position;
            _kind = header.Kind;
            _remaining = header.Length;
        }

        public override async ValueTask<int> ReadCoreAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            if (count == 0)
            {
                return 0;
            }
            if (_kind == BodyLength.Indeterminate)
            {
                return await StreamReading.ReadAsync(_enclosing, buffer, offset, count, useAsync, cancellationToken).ConfigureAwait(false);
            }
            while (_remaining == 0)
            {
                if (_kind != BodyLength.Partial)
                {
                    return 0;
                }
                (_kind, _remaining) = await OpenPgpPackets.ReadNewLengthAsync(_enclosing, _source, _position, useAsync, cancellationToken).ConfigureAwait(false);
            }
            var read = await StreamReading.ReadAsync(_enclosing, buffer, offset, (int)Math.Min(count, _remaining), useAsync, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw OpenPgpErrors.Corrupt(_source, _position(), $"{_remaining} more bytes of a packet, but the data ended (truncated file)");
            }
            _remaining -= read;
            return read;
        }
    }
}
