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
            var version = rdbVersion ?? RdbFormat.MinimumVersionOf(typeId);
            if (version < 1 || version > ushort.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(rdbVersion), "An RDB version is between 1 and 65535.");
            }
            var payload = new byte[1 + value.Length + FooterLength];
            payload[0] = typeId;
            value.CopyTo(payload.AsSpan(1));
            var footer = payload.AsSpan(1 + value.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(footer, (ushort)version);
            var crc = Crc64.Compute(payload.AsSpan(0, payload.Length - 8));
            BinaryPrimitives.WriteUInt64LittleEndian(footer.Slice(2), crc);
            return payload;
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
            var (encoding, _) = await walker.WalkValueAsync(content.TypeId, decode: false, cancellationToken).ConfigureAwait(false);
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
