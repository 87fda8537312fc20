using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// One key of an RDB: where it is, what it is, and its value exactly as serialized (the bytes RESTORE takes,
    /// without the type byte). Values up to the reader's threshold are in <see cref="Value"/>; larger ones are
    /// streamed with <see cref="CopyValueToAsync"/>, which must happen before the reader moves on.
    /// </summary>
    public sealed class RdbEntry
    {
        private ReadOnlyMemory<byte> _value;
        private ValueCapture? _largeValue;

        internal RdbEntry(int database, byte[] key, byte typeId, long offset, int rdbVersion)
        {
            Database = database;
            Key = key;
            TypeId = typeId;
            Offset = offset;
            RdbVersion = rdbVersion;
        }

        public int Database { get; }

        public byte[] Key { get; }

        /// <summary>The key as text for display (invalid UTF-8 replaced); use <see cref="Key"/> for anything else.</summary>
        public string KeyText => System.Text.Encoding.UTF8.GetString(Key);

        /// <summary>The RDB type byte (what a DUMP payload starts with).</summary>
        public byte TypeId { get; }

        public RdbValueType Type => RdbFormat.ValueTypeOf(TypeId);

        public RdbValueEncoding Encoding { get; internal set; }

        /// <summary>Absolute expiry in Unix milliseconds, if the key has one.</summary>
        public long? ExpiresAtMs { get; internal set; }

        /// <summary>LRU idle time in seconds, when the file was written under an LRU policy.</summary>
        public ulong? IdleSeconds { get; internal set; }

        /// <summary>LFU access frequency, when the file was written under an LFU policy.</summary>
        public byte? LfuFrequency { get; internal set; }

        /// <summary>Byte offset of the entry's first byte (its expiry or type opcode).</summary>
        public long Offset { get; }

        /// <summary>Byte offset of the serialized value (after the key).</summary>
        public long ValueOffset { get; internal set; }

        /// <summary>Length of the serialized value; known once it has been read or copied.</summary>
        public long? ValueLength { get; internal set; }

        /// <summary>Version of the file the entry came from (DUMP payloads carry it).</summary>
        public int RdbVersion { get; }

        private const int LargeValueChunksInFlight = 8;

        /// <summary>True when the serialized value is held in <see cref="Value"/>.</summary>
        public bool HasBufferedValue { get; private set; }

        /// <summary>True when the value is larger than the reader's threshold and still waits to be streamed.</summary>
        public bool IsLargeValuePending => _largeValue != null;

        public bool IsExpiredAt(DateTimeOffset now) => ExpiresAtMs is long expiry && expiry < now.ToUnixTimeMilliseconds();

        /// <summary>The serialized value. Throws when the value was not captured or is too large to hold.</summary>
        public ReadOnlyMemory<byte> Value => HasBufferedValue
            ? _value
            : throw new InvalidOperationException(_largeValue != null
                ? "The value is larger than the reader's threshold: stream it with CopyValueToAsync."
                : "The value was not captured (RdbReaderOptions.CaptureValues is off, or it was already streamed).");

        /// <summary>Writes the serialized value to <paramref name="destination"/> (held or streamed from the source).</summary>
        public async ValueTask CopyValueToAsync(Stream destination, CancellationToken cancellationToken = default)
        {
            if (HasBufferedValue)
            {
#if NET8_0_OR_GREATER
                await destination.WriteAsync(_value, cancellationToken).ConfigureAwait(false);
#else
                var copy = _value.ToArray();
                await destination.WriteAsync(copy, 0, copy.Length, cancellationToken).ConfigureAwait(false);
#endif
                return;
            }
            var large = _largeValue ?? throw new InvalidOperationException(
                "The value is not available: it was not captured, was already streamed, or the reader has moved past this entry.");
            _largeValue = null;
            ValueLength = await large.CompleteAsync(destination, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Decodes the value into its elements (reads the held value; large values: copy them to a stream
        /// and use <see cref="RdbValueDecoder"/>).</summary>
        public ValueTask<RdbValue> DecodeValueAsync(CancellationToken cancellationToken = default) =>
            RdbValueDecoder.DecodeAsync(TypeId, Value, cancellationToken);

        /// <summary>Hands each element of the value to <paramref name="sink"/>, held or streamed from the source.</summary>
        internal ValueTask WalkValueAsync(string sourceName, IRdbElementSink sink, CancellationToken cancellationToken) =>
            WalkValueAsync(sourceName, async walker => await walker.WalkValueAsync(TypeId, sink, cancellationToken).ConfigureAwait(false), cancellationToken);

        /// <summary>
        /// Runs <paramref name="walk"/> over the value: a held value in memory; a value above the reader's threshold as
        /// it passes from the source through a few pooled chunks, so it is neither held nor written to disk. The copy
        /// runs on its own task, since it only ends when the walker has read the value.
        /// </summary>
        internal async ValueTask WalkValueAsync(string sourceName, Func<RdbValueWalker, ValueTask> walk, CancellationToken cancellationToken)
        {
            if (HasBufferedValue)
            {
                await RdbValueDecoder.WalkAsync(RdbValueDecoder.OpenMemory(_value), sourceName, ValueOffset, walk, cancellationToken).ConfigureAwait(false);
                return;
            }
            var pipe = new ChunkPipe(LargeValueChunksInFlight);
            var copy = Task.Run(async () =>
            {
                try
                {
                    await CopyValueToAsync(new ChunkPipeWriteStream(pipe), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    pipe.Complete();
                }
            }, cancellationToken);
            try
            {
                using var value = new ChunkPipeReadStream(pipe);
                await RdbValueDecoder.WalkAsync(value, sourceName, ValueOffset, walk, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Lets the copy run to the value's end whatever the walk did, so the reader can move on (or report damage).
                pipe.Abandon();
                await copy.ConfigureAwait(false);
            }
        }

        internal void SetBufferedValue(ReadOnlyMemory<byte> value)
        {
            _value = value;
            HasBufferedValue = true;
            ValueLength = value.Length;
        }

        internal void SetLargeValue(ValueCapture capture) => _largeValue = capture;

        /// <summary>Called by the reader before it moves on: a value nobody streamed is consumed and discarded.</summary>
        internal async ValueTask DiscardPendingValueAsync(CancellationToken cancellationToken)
        {
            var large = _largeValue;
            if (large != null)
            {
                _largeValue = null;
                ValueLength = await large.CompleteAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            }
        }

        public override string ToString() => $"db{Database} {KeyText} ({Type}/{Encoding}) at {Offset}";
    }
}
