using System;
using System.Buffers.Binary;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>The parts of a DUMP payload.</summary>
    public sealed record RdbDumpContent(byte TypeId, ReadOnlyMemory<byte> Value, int RdbVersion, RdbChecksumStatus Checksum);

    /// <summary>
    /// DUMP/RESTORE payloads: the type byte and the serialized value as an RDB stores them, then the RDB version
    /// (2 bytes, little endian) and the CRC64 of everything before it (8 bytes, little endian).
    /// </summary>
    public static class RdbDumpPayload
    {
        public const int FooterLength = 10;

        /// <summary>The payload for a value. <paramref name="rdbVersion"/> defaults to the oldest version that has the
        /// value's type, which every server able to read the type accepts (RESTORE refuses versions newer than its own).</summary>
        public static byte[] Create(byte typeId, ReadOnlySpan<byte> value, int? rdbVersion = null)
        {
            var payload = new byte[1 + value.Length + FooterLength];
            payload[0] = typeId;
            value.CopyTo(payload.AsSpan(1));
            Footer(ChecksumOf(typeId, value), rdbVersion ?? RdbFormat.MinimumVersionOf(typeId)).CopyTo(payload.AsSpan(1 + value.Length));
            return payload;
        }

        /// <summary>The CRC64 of a payload's type byte and value (what <see cref="Footer"/> continues).</summary>
        public static ulong ChecksumOf(byte typeId, ReadOnlySpan<byte> value) => Crc64.Update(Crc64.Update(0, TypeByte(typeId).Span), value);

        /// <summary>
        /// The footer (version, then CRC64 of everything before it) for a payload whose type byte and value have the CRC64
        /// <paramref name="checksumSoFar"/>: a payload can then be sent in pieces, or streamed, without being assembled.
        /// </summary>
        public static byte[] Footer(ulong checksumSoFar, int rdbVersion)
        {
            if (rdbVersion < 1 || rdbVersion > ushort.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(rdbVersion), "An RDB version is between 1 and 65535.");
            }
            var footer = new byte[FooterLength];
            BinaryPrimitives.WriteUInt16LittleEndian(footer, (ushort)rdbVersion);
            BinaryPrimitives.WriteUInt64LittleEndian(footer.AsSpan(2), Crc64.Update(checksumSoFar, footer.AsSpan(0, 2)));
            return footer;
        }

        /// <summary>A payload's first byte, as a shared one-byte buffer per type.</summary>
        public static ReadOnlyMemory<byte> TypeByte(byte typeId) => s_typeBytes[typeId];

        private static readonly byte[][] s_typeBytes = BuildTypeBytes();

        private static byte[][] BuildTypeBytes()
        {
            var bytes = new byte[256][];
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = new[] { (byte)i };
            }
            return bytes;
        }

        /// <summary>The payload for an entry whose value is held in memory.</summary>
        public static byte[] Create(RdbEntry entry, int? rdbVersion = null) => Create(entry.TypeId, entry.Value.Span, rdbVersion);

        /// <summary>Splits a payload and checks its footer; a zero CRC means "not computed" (as Redis writes with
        /// checksums off).</summary>
        public static RdbDumpContent Parse(ReadOnlyMemory<byte> payload, string sourceName = "DUMP payload")
        {
            var span = payload.Span;
            if (span.Length < 1 + FooterLength)
            {
                throw new CorruptDataException(sourceName, span.Length, $"a DUMP payload holds at least {1 + FooterLength} bytes");
            }
            var footer = span.Slice(span.Length - FooterLength);
            var version = BinaryPrimitives.ReadUInt16LittleEndian(footer);
            var stored = BinaryPrimitives.ReadUInt64LittleEndian(footer.Slice(2));
            var status = RdbChecksumStatus.NotComputed;
            if (stored != 0)
            {
                var computed = Crc64.Compute(span.Slice(0, span.Length - 8));
                if (computed != stored)
                {
                    throw new CorruptDataException(sourceName, span.Length - 8, "DUMP payload CRC64 does not match its content");
                }
                status = RdbChecksumStatus.Valid;
            }
            if (!RdbFormat.IsKnownValueType(span[0]) || RdbFormat.IsValkeyOwnType(span[0], version))
            {
                throw new RdbFormatNotSupportedException(sourceName, 0, $"RDB value type {span[0]} (payload version {version}) is not supported");
            }
            return new RdbDumpContent(span[0], payload.Slice(1, span.Length - 1 - FooterLength), version, status);
        }

        /// <summary>Turns a payload back into an entry (for writing it to an RDB, or decoding it), after walking the
        /// value to check that it is complete and sound.</summary>
        public static async ValueTask<RdbEntry> ToEntryAsync(ReadOnlyMemory<byte> payload, int database, byte[] key, long? expiresAtMs = null,
            string sourceName = "DUMP payload", CancellationToken cancellationToken = default)
        {
            var content = Parse(payload, sourceName);
            var value = content.Value.ToArray();
            using var input = new RdbInput(new MemoryStream(value, writable: false), sourceName, 1, 16 * 1024);
            var walker = new RdbValueWalker(input, validate: true, blobLimit: int.MaxValue - 64);
            var encoding = await walker.WalkValueAsync(content.TypeId, sink: null, cancellationToken).ConfigureAwait(false);
            if (await input.TryEnsureAsync(1, cancellationToken).ConfigureAwait(false) > 0)
            {
                throw input.Corrupt("bytes left after the end of the value", input.Position);
            }
            var entry = new RdbEntry(database, key, content.TypeId, 0, content.RdbVersion)
            {
                Encoding = encoding,
                ExpiresAtMs = expiresAtMs,
                ValueOffset = 1,
            };
            entry.SetBufferedValue(value);
            return entry;
        }
    }
}
