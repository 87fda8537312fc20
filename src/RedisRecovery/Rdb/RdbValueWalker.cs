using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>How a string element is stored.</summary>
    internal enum RdbStringForm
    {
        Raw,
        Int,
        Lzf,
    }

    /// <summary>
    /// Receives a value's elements one at a time, as the walker decodes them: a consumer that acts on each element
    /// (a writer turning them into commands) never needs more of the value in memory than the current element or
    /// packed node. Stream metadata arrives after the entries, then each consumer group, then each producer.
    /// </summary>
    internal interface IRdbElementSink
    {
        ValueTask StringAsync(byte[] value, CancellationToken cancellationToken);

        ValueTask ListItemAsync(byte[] item, CancellationToken cancellationToken);

        ValueTask SetMemberAsync(byte[] member, CancellationToken cancellationToken);

        ValueTask SortedSetMemberAsync(RdbSortedSetMember member, CancellationToken cancellationToken);

        ValueTask HashFieldAsync(RdbHashField field, CancellationToken cancellationToken);

        ValueTask StreamEntryAsync(RdbStreamEntry entry, CancellationToken cancellationToken);

        ValueTask StreamInfoAsync(RdbStreamInfo info, CancellationToken cancellationToken);

        ValueTask StreamGroupAsync(RdbStreamGroup group, CancellationToken cancellationToken);

        ValueTask StreamProducerAsync(RdbStreamProducer producer, CancellationToken cancellationToken);

        ValueTask ModuleAsync(ulong moduleId, CancellationToken cancellationToken);
    }

    /// <summary>What a stream records besides its entries (it comes after them in the serialized form).</summary>
    internal readonly record struct RdbStreamInfo(ulong Length, RdbStreamId LastId, RdbStreamId? FirstId, RdbStreamId? MaxDeletedId, ulong? EntriesAdded);

    /// <summary>
    /// Walks the serialized form of one value (and the other length-prefixed structures of the format) over an
    /// <see cref="RdbInput"/>: every length is checked before anything is allocated, compact blobs are checked for
    /// integrity, and, when asked, the elements are decoded. Walking without decoding allocates only for blobs that
    /// must be checked.
    /// </summary>
    internal sealed class RdbValueWalker
    {
        /// <summary>Keys and other names are never longer than this (Redis' own limit for a bulk string).</summary>
        public const long MaxNameLength = 512L * 1024 * 1024;

        private const int StreamIdSize = 16;
        private const int UntrustedAllocation = 1024 * 1024;
        private const byte StreamItemDeleted = 1;
        private const byte StreamItemSameFields = 2;

        private readonly RdbInput _input;
        private readonly bool _validate;
        private readonly int _blobLimit;

        /// <summary>Where buffered compressed strings are decompressed to be checked; grows to the largest one met.</summary>
        private byte[] _scratch = Array.Empty<byte>();

        public RdbValueWalker(RdbInput input, bool validate, int blobLimit)
        {
            _input = input;
            _validate = validate;
            _blobLimit = blobLimit;
        }

        // ---- lengths and numbers ----

        public ValueTask<ulong> ReadLengthAsync(string what, CancellationToken cancellationToken)
        {
            if (_input.Available >= 9)
            {
                var value = ParseLength(what, out var encoded);
                if (encoded)
                {
                    throw _input.Corrupt($"{what}: expected a length, found a string encoding marker", _input.Position - 1);
                }
                return new ValueTask<ulong>(value);
            }
            return ReadLengthSlowAsync(what, cancellationToken);
        }

        private async ValueTask<ulong> ReadLengthSlowAsync(string what, CancellationToken cancellationToken)
        {
            var (value, encoded) = await ReadLengthOrEncodingAsync(what, cancellationToken).ConfigureAwait(false);
            if (encoded)
            {
                throw _input.Corrupt($"{what}: expected a length, found a string encoding marker", _input.Position - 1);
            }
            return value;
        }

        /// <summary>A length, or (encoded = true) one of the special string encodings 0-3.</summary>
        public async ValueTask<(ulong Value, bool Encoded)> ReadLengthOrEncodingAsync(string what, CancellationToken cancellationToken)
        {
            if (_input.Available < 9)
            {
                await _input.EnsureAsync(1, what, cancellationToken).ConfigureAwait(false);
                var needed = LengthSize(_input.PeekByte());
                await _input.EnsureAsync(needed, what, cancellationToken).ConfigureAwait(false);
            }
            var value = ParseLength(what, out var encoded);
            return (value, encoded);
        }

        private static int LengthSize(byte first) => (first >> 6) switch
        {
            0 => 1,
            1 => 2,
            2 => first == 0x80 ? 5 : first == 0x81 ? 9 : 1,
            _ => 1,
        };

        private ulong ParseLength(string what, out bool encoded)
        {
            var start = _input.Position;
            var first = _input.ReadByte();
            encoded = false;
            switch (first >> 6)
            {
                case 0:
                    return (ulong)(first & 0x3F);
                case 1:
                    return (ulong)(((first & 0x3F) << 8) | _input.ReadByte());
                case 2:
                    if (first == 0x80)
                    {
                        return BinaryPrimitives.ReverseEndianness(_input.ReadUInt32LittleEndian());
                    }
                    if (first == 0x81)
                    {
                        return BinaryPrimitives.ReverseEndianness(_input.ReadUInt64LittleEndian());
                    }
                    throw _input.Corrupt($"{what}: unknown length encoding 0x{first:X2}", start);
                default:
                    encoded = true;
                    return (ulong)(first & 0x3F);
            }
        }

        public async ValueTask<int> ReadLengthAsIntAsync(string what, long max, CancellationToken cancellationToken)
        {
            var start = _input.Position;
            var value = await ReadLengthAsync(what, cancellationToken).ConfigureAwait(false);
            if (value > (ulong)max)
            {
                throw _input.Corrupt($"{what}: {value} is out of range", start);
            }
            return (int)value;
        }

        public async ValueTask<ulong> ReadUInt64Async(string what, CancellationToken cancellationToken)
        {
            await _input.EnsureAsync(8, what, cancellationToken).ConfigureAwait(false);
            return _input.ReadUInt64LittleEndian();
        }

        public async ValueTask<byte> ReadByteAsync(string what, CancellationToken cancellationToken)
        {
            await _input.EnsureAsync(1, what, cancellationToken).ConfigureAwait(false);
            return _input.ReadByte();
        }

        // ---- strings ----

        /// <summary>Consumes one string element, checking compressed data when it is small enough to hold.</summary>
        public ValueTask<RdbStringForm> SkipStringAsync(string what, CancellationToken cancellationToken)
        {
            // Most elements are small and already buffered: handle them without the asynchronous machinery.
            var buffered = _input.Buffered;
            if (RdbStringDecoding.TryReadLength(buffered, out var length, out var encoded, out var size))
            {
                if (!encoded && length <= (ulong)(buffered.Length - size))
                {
                    _input.Take(size + (int)length);
                    return new ValueTask<RdbStringForm>(RdbStringForm.Raw);
                }
                if (encoded && length == 3 && RdbStringDecoding.TryReadLength(buffered.Slice(1), out var compressed, out var compressedMarker, out var compressedSize)
                    && RdbStringDecoding.TryReadLength(buffered.Slice(1 + compressedSize), out var plain, out var plainMarker, out var plainSize)
                    && !compressedMarker && !plainMarker && plain > 0 && plain <= (ulong)_blobLimit
                    && compressed <= (ulong)(buffered.Length - 1 - compressedSize - plainSize))
                {
                    var body = buffered.Slice(1 + compressedSize + plainSize, (int)compressed);
                    if (_validate)
                    {
                        if (_scratch.Length < (int)plain)
                        {
                            _scratch = new byte[Math.Max((int)plain, _scratch.Length * 2)];
                        }
                        if (!Lzf.TryDecompress(body, new Span<byte>(_scratch, 0, (int)plain)))
                        {
                            throw _input.Corrupt($"{what}: LZF data does not decompress to its stated {plain} bytes", _input.Position);
                        }
                    }
                    _input.Take(1 + compressedSize + plainSize + (int)compressed);
                    return new ValueTask<RdbStringForm>(RdbStringForm.Lzf);
                }
            }
            return SkipStringSlowAsync(what, cancellationToken);
        }

        private async ValueTask<RdbStringForm> SkipStringSlowAsync(string what, CancellationToken cancellationToken)
        {
            var start = _input.Position;
            var (length, encoded) = await ReadLengthOrEncodingAsync(what, cancellationToken).ConfigureAwait(false);
            if (!encoded)
            {
                await _input.SkipAsync((long)length, what, cancellationToken).ConfigureAwait(false);
                return RdbStringForm.Raw;
            }
            switch (length)
            {
                case 0:
                    await _input.SkipAsync(1, what, cancellationToken).ConfigureAwait(false);
                    return RdbStringForm.Int;
                case 1:
                    await _input.SkipAsync(2, what, cancellationToken).ConfigureAwait(false);
                    return RdbStringForm.Int;
                case 2:
                    await _input.SkipAsync(4, what, cancellationToken).ConfigureAwait(false);
                    return RdbStringForm.Int;
                case 3:
                    var compressed = await ReadLengthAsync("compressed string length", cancellationToken).ConfigureAwait(false);
                    var plain = await ReadLengthAsync("uncompressed string length", cancellationToken).ConfigureAwait(false);
                    if (_validate && compressed <= (ulong)_blobLimit && plain <= (ulong)_blobLimit)
                    {
                        var decompressed = await ReadLzfBodyAsync(what, start, (long)compressed, (long)plain, cancellationToken).ConfigureAwait(false);
                        ArrayPool<byte>.Shared.Return(decompressed);
                    }
                    else
                    {
                        await _input.SkipAsync((long)compressed, what, cancellationToken).ConfigureAwait(false);
                    }
                    return RdbStringForm.Lzf;
                default:
                    throw _input.Corrupt($"{what}: unknown string encoding {length}", start);
            }
        }

        /// <summary>Reads one string element whole (decompressed, integers as text).</summary>
        public ValueTask<byte[]> ReadStringAsync(string what, long maxLength, CancellationToken cancellationToken)
        {
            var buffered = _input.Buffered;
            if (RdbStringDecoding.TryReadLength(buffered, out var length, out var encoded, out var size) && !encoded
                && length <= (ulong)(buffered.Length - size) && length <= (ulong)maxLength)
            {
                var bytes = buffered.Slice(size, (int)length).ToArray();
                _input.Take(size + (int)length);
                return new ValueTask<byte[]>(bytes);
            }
            return ReadStringSlowAsync(what, maxLength, cancellationToken);
        }

        private async ValueTask<byte[]> ReadStringSlowAsync(string what, long maxLength, CancellationToken cancellationToken)
        {
            var (bytes, _) = await ReadStringWithFormAsync(what, maxLength, cancellationToken).ConfigureAwait(false);
            return bytes;
        }

        public async ValueTask<(byte[] Bytes, RdbStringForm Form)> ReadStringWithFormAsync(string what, long maxLength, CancellationToken cancellationToken)
        {
            var start = _input.Position;
            var (length, encoded) = await ReadLengthOrEncodingAsync(what, cancellationToken).ConfigureAwait(false);
            if (!encoded)
            {
                CheckMaximum(what, start, (long)Math.Min(length, long.MaxValue), maxLength);
                _input.CheckRemaining((long)Math.Min(length, long.MaxValue), what);
                return (await ReadRawAsync(what, (int)length, cancellationToken).ConfigureAwait(false), RdbStringForm.Raw);
            }
            return await ReadEncodedStringAsync(what, start, length, maxLength, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Hands a string element to <paramref name="part"/> in pieces as it is read, so a raw string of any size is never
        /// held whole (an integer or LZF-compressed string is decoded first and handed in one piece).
        /// </summary>
        public async ValueTask ReadStringInPartsAsync(string what, Action<ReadOnlyMemory<byte>> part, CancellationToken cancellationToken)
        {
            var start = _input.Position;
            var (length, encoded) = await ReadLengthOrEncodingAsync(what, cancellationToken).ConfigureAwait(false);
            if (!encoded)
            {
                await _input.ReadInPartsAsync((long)Math.Min(length, long.MaxValue), what, part, cancellationToken).ConfigureAwait(false);
                return;
            }
            var (bytes, _) = await ReadEncodedStringAsync(what, start, length, int.MaxValue - 64, cancellationToken).ConfigureAwait(false);
            part(bytes);
        }

        /// <summary>The rest of a string whose prefix said it is encoded: an integer (0-2) or LZF-compressed (3).</summary>
        private async ValueTask<(byte[] Bytes, RdbStringForm Form)> ReadEncodedStringAsync(string what, long start, ulong encoding, long maxLength,
            CancellationToken cancellationToken)
        {
            long integer;
            switch (encoding)
            {
                case 0:
                    await _input.EnsureAsync(1, what, cancellationToken).ConfigureAwait(false);
                    integer = (sbyte)_input.ReadByte();
                    break;
                case 1:
                    await _input.EnsureAsync(2, what, cancellationToken).ConfigureAwait(false);
                    integer = (short)_input.ReadUInt16LittleEndian();
                    break;
                case 2:
                    await _input.EnsureAsync(4, what, cancellationToken).ConfigureAwait(false);
                    integer = (int)_input.ReadUInt32LittleEndian();
                    break;
                case 3:
                    var compressed = await ReadLengthAsync("compressed string length", cancellationToken).ConfigureAwait(false);
                    var plain = await ReadLengthAsync("uncompressed string length", cancellationToken).ConfigureAwait(false);
                    CheckMaximum(what, start, (long)Math.Min(plain, long.MaxValue), maxLength);
                    var rented = await ReadLzfBodyAsync(what, start, (long)Math.Min(compressed, long.MaxValue), (long)plain, cancellationToken).ConfigureAwait(false);
                    var result = new byte[plain];
                    Buffer.BlockCopy(rented, 0, result, 0, (int)plain);
                    ArrayPool<byte>.Shared.Return(rented);
                    return (result, RdbStringForm.Lzf);
                default:
                    throw _input.Corrupt($"{what}: unknown string encoding {encoding}", start);
            }
            return (PackedEncodings.IntegerText(integer), RdbStringForm.Int);
        }

        /// <summary>
        /// Reads <paramref name="length"/> raw bytes. When the stream cannot say how much remains, a large length is
        /// not trusted with an allocation of its size: the bytes are gathered as they arrive, so a damaged prefix
        /// ends in "unexpected end of data" rather than a huge allocation.
        /// </summary>
        private async ValueTask<byte[]> ReadRawAsync(string what, int length, CancellationToken cancellationToken)
        {
            if (length == 0)
            {
                return Array.Empty<byte>();
            }
            if (_input.KnownEnd != null || length <= UntrustedAllocation)
            {
                var bytes = new byte[length];
                await _input.ReadExactlyAsync(bytes, what, cancellationToken).ConfigureAwait(false);
                return bytes;
            }
            using var gathered = new MemoryStream(UntrustedAllocation);
            var chunk = new byte[UntrustedAllocation];
            for (var remaining = length; remaining > 0; remaining -= chunk.Length)
            {
                var step = Math.Min(remaining, chunk.Length);
                await _input.ReadExactlyAsync(new Memory<byte>(chunk, 0, step), what, cancellationToken).ConfigureAwait(false);
                gathered.Write(chunk, 0, step);
            }
            return gathered.ToArray();
        }

        /// <summary>A blob that must be checked (ziplist, listpack...): whole when within the limit, else skipped (null).</summary>
        private async ValueTask<byte[]?> ReadBlobAsync(string what, bool decode, CancellationToken cancellationToken)
        {
            if (!_validate && !decode)
            {
                await SkipStringAsync(what, cancellationToken).ConfigureAwait(false);
                return null;
            }
            var start = _input.Position;
            var (length, encoded) = await ReadLengthOrEncodingAsync(what, cancellationToken).ConfigureAwait(false);
            var limit = decode ? int.MaxValue - 64 : _blobLimit;
            if (!encoded)
            {
                if (length > (ulong)limit)
                {
                    await _input.SkipAsync((long)Math.Min(length, long.MaxValue), what, cancellationToken).ConfigureAwait(false);
                    return null;
                }
                _input.CheckRemaining((long)length, what);
                return await ReadRawAsync(what, (int)length, cancellationToken).ConfigureAwait(false);
            }
            if (length != 3)
            {
                throw _input.Corrupt($"{what}: expected an encoded blob, found an integer", start);
            }
            var compressed = await ReadLengthAsync("compressed string length", cancellationToken).ConfigureAwait(false);
            var plain = await ReadLengthAsync("uncompressed string length", cancellationToken).ConfigureAwait(false);
            if (compressed > (ulong)limit || plain > (ulong)limit)
            {
                await _input.SkipAsync((long)Math.Min(compressed, long.MaxValue), what, cancellationToken).ConfigureAwait(false);
                return null;
            }
            var rented = await ReadLzfBodyAsync(what, start, (long)compressed, (long)plain, cancellationToken).ConfigureAwait(false);
            var result = new byte[plain];
            Buffer.BlockCopy(rented, 0, result, 0, (int)plain);
            ArrayPool<byte>.Shared.Return(rented);
            return result;
        }

        /// <summary>Reads and decompresses an LZF body into a rented array of at least <paramref name="plain"/> bytes.</summary>
        private async ValueTask<byte[]> ReadLzfBodyAsync(string what, long start, long compressed, long plain, CancellationToken cancellationToken)
        {
            _input.CheckRemaining(compressed, what);
            if (compressed < long.MaxValue / Lzf.MaxExpansion && plain > compressed * Lzf.MaxExpansion)
            {
                throw _input.Corrupt($"{what}: {compressed} LZF bytes cannot expand to the stated {plain} bytes", start);
            }
            if (plain > int.MaxValue - 64 || compressed > int.MaxValue - 64)
            {
                throw new RdbFormatNotSupportedException(_input.SourceName, start, $"{what}: compressed string of {plain} bytes is too large to decompress in memory");
            }
            if (plain == 0)
            {
                throw _input.Corrupt($"{what}: compressed string with zero length", start);
            }
            // Read through ReadRawAsync: on a stream of unknown length the compressed bytes must arrive before the
            // memory for them (and, by the expansion bound, for the output) is taken.
            var input = await ReadRawAsync(what, (int)compressed, cancellationToken).ConfigureAwait(false);
            var output = ArrayPool<byte>.Shared.Rent((int)plain);
            if (!Lzf.TryDecompress(input, new Span<byte>(output, 0, (int)plain)))
            {
                ArrayPool<byte>.Shared.Return(output);
                throw _input.Corrupt($"{what}: LZF data does not decompress to its stated {plain} bytes", start);
            }
            return output;
        }

        private void CheckMaximum(string what, long start, long length, long maxLength)
        {
            if (length > maxLength)
            {
                throw _input.Corrupt($"{what}: a string of {length} bytes is longer than allowed here ({maxLength})", start);
            }
        }

        // ---- values ----

        /// <summary>Walks one value of <paramref name="type"/> and returns how it is stored; with a
        /// <paramref name="sink"/>, hands it each element on the way.</summary>
        public ValueTask<RdbValueEncoding> WalkValueAsync(byte type, IRdbElementSink? sink, CancellationToken cancellationToken)
        {
            // Plain strings are most keys of most files: skip them without entering the general state machine.
            if (type == RdbFormat.TypeString && sink is null)
            {
                var skip = SkipStringAsync("string value", cancellationToken);
                return skip.IsCompletedSuccessfully
                    ? new ValueTask<RdbValueEncoding>(EncodingOf(skip.Result))
                    : FinishSkipAsync(skip);
            }
            return WalkAnyValueAsync(type, sink, cancellationToken);
        }

        private static async ValueTask<RdbValueEncoding> FinishSkipAsync(ValueTask<RdbStringForm> skip) =>
            EncodingOf(await skip.ConfigureAwait(false));

        private async ValueTask<RdbValueEncoding> WalkAnyValueAsync(byte type, IRdbElementSink? sink, CancellationToken cancellationToken)
        {
            var start = _input.Position;
            switch (type)
            {
                case RdbFormat.TypeString:
                    if (sink != null)
                    {
                        var (bytes, form) = await ReadStringWithFormAsync("string value", int.MaxValue - 64, cancellationToken).ConfigureAwait(false);
                        await sink.StringAsync(bytes, cancellationToken).ConfigureAwait(false);
                        return EncodingOf(form);
                    }
                    return EncodingOf(await SkipStringAsync("string value", cancellationToken).ConfigureAwait(false));

                case RdbFormat.TypeList:
                case RdbFormat.TypeSet:
                case RdbFormat.TypeHash:
                    await WalkStringSequenceAsync(RdbFormat.ValueTypeOf(type), sink, cancellationToken).ConfigureAwait(false);
                    return RdbFormat.EncodingOf(type);

                case RdbFormat.TypeZset:
                case RdbFormat.TypeZset2:
                    await WalkSortedSetAsync(type, sink, cancellationToken).ConfigureAwait(false);
                    return RdbValueEncoding.Skiplist;

                case RdbFormat.TypeHashZipmap:
                case RdbFormat.TypeListZiplist:
                case RdbFormat.TypeSetIntset:
                case RdbFormat.TypeZsetZiplist:
                case RdbFormat.TypeHashZiplist:
                case RdbFormat.TypeHashListpack:
                case RdbFormat.TypeZsetListpack:
                case RdbFormat.TypeSetListpack:
                case RdbFormat.TypeHashListpackExPreGa:
                case RdbFormat.TypeHashListpackEx:
                    await WalkSingleBlobAsync(type, sink, cancellationToken).ConfigureAwait(false);
                    return RdbFormat.EncodingOf(type);

                case RdbFormat.TypeListQuicklist:
                case RdbFormat.TypeListQuicklist2:
                    await WalkQuicklistAsync(type, sink, cancellationToken).ConfigureAwait(false);
                    return RdbFormat.EncodingOf(type);

                case RdbFormat.TypeHashMetadataPreGa:
                case RdbFormat.TypeHashMetadata:
                    await WalkHashWithFieldExpiryAsync(type, sink, cancellationToken).ConfigureAwait(false);
                    return RdbValueEncoding.HashtableWithFieldExpiry;

                case RdbFormat.TypeStreamListpacks:
                case RdbFormat.TypeStreamListpacks2:
                case RdbFormat.TypeStreamListpacks3:
                case RdbFormat.TypeStreamListpacks4:
                    await WalkStreamAsync(type, sink, cancellationToken).ConfigureAwait(false);
                    return RdbValueEncoding.StreamListpacks;

                case RdbFormat.TypeModule2:
                {
                    var moduleId = await ReadLengthAsync("module id", cancellationToken).ConfigureAwait(false);
                    await WalkModuleOpcodesAsync(cancellationToken).ConfigureAwait(false);
                    if (sink != null)
                    {
                        await sink.ModuleAsync(moduleId, cancellationToken).ConfigureAwait(false);
                    }
                    return RdbValueEncoding.Module;
                }

                default:
                    throw new RdbFormatNotSupportedException(_input.SourceName, start - 1, $"RDB value type {type} is not supported");
            }
        }

        private static RdbValueEncoding EncodingOf(RdbStringForm form) => form switch
        {
            RdbStringForm.Int => RdbValueEncoding.Int,
            RdbStringForm.Lzf => RdbValueEncoding.Lzf,
            _ => RdbValueEncoding.Raw,
        };

        /// <summary>The element count of a collection: never zero (Redis drops empty keys, a file holding one is
        /// damaged) and never more than the bytes that can remain.</summary>
        private async ValueTask<ulong> ReadElementCountAsync(string what, ulong bytesPerElement, CancellationToken cancellationToken)
        {
            var start = _input.Position;
            var count = await ReadLengthAsync(what, cancellationToken).ConfigureAwait(false);
            if (count == 0)
            {
                throw _input.Corrupt($"empty value ({what} is 0)", start);
            }
            _input.CheckRemaining((long)Math.Min(count, (ulong)(long.MaxValue / (long)bytesPerElement)) * (long)bytesPerElement, what);
            return count;
        }

        /// <summary>A list, set or hash stored as plain strings (a hash as field, value, field, value...).</summary>
        private async ValueTask WalkStringSequenceAsync(RdbValueType valueType, IRdbElementSink? sink, CancellationToken cancellationToken)
        {
            var stringsPerElement = valueType == RdbValueType.Hash ? 2 : 1;
            var what = valueType switch
            {
                RdbValueType.List => "list item",
                RdbValueType.Set => "set member",
                _ => "hash field",
            };
            var count = await ReadElementCountAsync("element count", (ulong)stringsPerElement, cancellationToken).ConfigureAwait(false);
            for (ulong i = 0; i < count; i++)
            {
                if (sink is null)
                {
                    for (var s = 0; s < stringsPerElement; s++)
                    {
                        await SkipStringAsync(what, cancellationToken).ConfigureAwait(false);
                    }
                    continue;
                }
                var first = await ReadStringAsync(what, int.MaxValue - 64, cancellationToken).ConfigureAwait(false);
                switch (valueType)
                {
                    case RdbValueType.List:
                        await sink.ListItemAsync(first, cancellationToken).ConfigureAwait(false);
                        break;
                    case RdbValueType.Set:
                        await sink.SetMemberAsync(first, cancellationToken).ConfigureAwait(false);
                        break;
                    default:
                        var value = await ReadStringAsync(what, int.MaxValue - 64, cancellationToken).ConfigureAwait(false);
                        await sink.HashFieldAsync(new RdbHashField(first, value), cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
        }

        private async ValueTask WalkSortedSetAsync(byte type, IRdbElementSink? sink, CancellationToken cancellationToken)
        {
            var count = await ReadElementCountAsync("sorted set member count", 2, cancellationToken).ConfigureAwait(false);
            for (ulong i = 0; i < count; i++)
            {
                byte[]? member = null;
                if (sink != null)
                {
                    member = await ReadStringAsync("sorted set member", int.MaxValue - 64, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await SkipStringAsync("sorted set member", cancellationToken).ConfigureAwait(false);
                }
                double score;
                if (type == RdbFormat.TypeZset2)
                {
                    score = BitConverter.Int64BitsToDouble((long)await ReadUInt64Async("sorted set score", cancellationToken).ConfigureAwait(false));
                }
                else
                {
                    score = await ReadTextDoubleAsync("sorted set score", cancellationToken).ConfigureAwait(false);
                }
                if (sink != null)
                {
                    await sink.SortedSetMemberAsync(new RdbSortedSetMember(member!, score), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private async ValueTask<double> ReadTextDoubleAsync(string what, CancellationToken cancellationToken)
        {
            var start = _input.Position;
            var length = await ReadByteAsync(what, cancellationToken).ConfigureAwait(false);
            switch (length)
            {
                case 253:
                    return double.NaN;
                case 254:
                    return double.PositiveInfinity;
                case 255:
                    return double.NegativeInfinity;
            }
            await _input.EnsureAsync(length, what, cancellationToken).ConfigureAwait(false);
            var text = Encoding.ASCII.GetString(_input.Take(length).ToArray());
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw _input.Corrupt($"{what}: not a number", start);
            }
            return value;
        }

        private async ValueTask WalkSingleBlobAsync(byte type, IRdbElementSink? sink, CancellationToken cancellationToken)
        {
            var start = _input.Position;
            if (type == RdbFormat.TypeHashListpackEx)
            {
                // The minimum lets Redis schedule expiry without opening the blob; the fields carry absolute times.
                await ReadUInt64Async("hash minimum field expiry", cancellationToken).ConfigureAwait(false);
                start = _input.Position;
            }
            var what = type switch
            {
                RdbFormat.TypeHashZipmap => "zipmap",
                RdbFormat.TypeSetIntset => "intset",
                RdbFormat.TypeListZiplist or RdbFormat.TypeZsetZiplist or RdbFormat.TypeHashZiplist => "ziplist",
                _ => "listpack",
            };
            var blob = await ReadBlobAsync(what, sink != null, cancellationToken).ConfigureAwait(false);
            if (blob is null)
            {
                return;
            }
            var items = sink != null ? new List<byte[]>() : null;
            long count;
            var error = type switch
            {
                RdbFormat.TypeHashZipmap => PackedEncodings.Zipmap(blob, items, out count),
                RdbFormat.TypeSetIntset => PackedEncodings.Intset(blob, items, out count),
                RdbFormat.TypeListZiplist or RdbFormat.TypeZsetZiplist or RdbFormat.TypeHashZiplist => PackedEncodings.Ziplist(blob, items, out count),
                _ => PackedEncodings.Listpack(blob, items, out count),
            };
            if (error != null)
            {
                throw _input.Corrupt(what + " integrity check failed: " + error, start);
            }
            if (count == 0)
            {
                throw _input.Corrupt($"empty value ({what} holds no elements)", start);
            }
            var group = type switch
            {
                RdbFormat.TypeZsetZiplist or RdbFormat.TypeZsetListpack or RdbFormat.TypeHashZiplist or RdbFormat.TypeHashListpack or RdbFormat.TypeHashZipmap => 2,
                RdbFormat.TypeHashListpackEx or RdbFormat.TypeHashListpackExPreGa => 3,
                _ => 1,
            };
            if (count % group != 0)
            {
                throw _input.Corrupt($"{what} holds {count} elements, not a multiple of {group}", start);
            }
            if (sink is null)
            {
                return;
            }
            var valueType = RdbFormat.ValueTypeOf(type);
            for (var i = 0; i < items!.Count; i += group)
            {
                switch (valueType)
                {
                    case RdbValueType.List:
                        await sink.ListItemAsync(items[i], cancellationToken).ConfigureAwait(false);
                        break;
                    case RdbValueType.Set:
                        await sink.SetMemberAsync(items[i], cancellationToken).ConfigureAwait(false);
                        break;
                    case RdbValueType.SortedSet:
                        await sink.SortedSetMemberAsync(new RdbSortedSetMember(items[i], ParseDouble(items[i + 1], start)), cancellationToken).ConfigureAwait(false);
                        break;
                    default:
                        long? expiry = group == 3 ? ParseInteger(items[i + 2], start) : null;
                        await sink.HashFieldAsync(new RdbHashField(items[i], items[i + 1], expiry == 0 ? null : expiry), cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
        }

        private async ValueTask WalkQuicklistAsync(byte type, IRdbElementSink? sink, CancellationToken cancellationToken)
        {
            var start = _input.Position;
            var nodes = await ReadElementCountAsync("quicklist node count", 1, cancellationToken).ConfigureAwait(false);
            // One node's items at a time: a list is handed on node by node, never held whole.
            var items = sink != null ? new List<byte[]>() : null;
            long total = 0;
            var anyNodeUnchecked = false;
            for (ulong i = 0; i < nodes; i++)
            {
                var nodeStart = _input.Position;
                var packed = true;
                if (type == RdbFormat.TypeListQuicklist2)
                {
                    var container = await ReadLengthAsync("quicklist node container", cancellationToken).ConfigureAwait(false);
                    if (container == 1)
                    {
                        packed = false;
                    }
                    else if (container != 2)
                    {
                        throw _input.Corrupt($"quicklist node container {container} is neither plain (1) nor packed (2)", nodeStart);
                    }
                }
                if (!packed)
                {
                    if (sink != null)
                    {
                        await sink.ListItemAsync(await ReadStringAsync("quicklist plain node", int.MaxValue - 64, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await SkipStringAsync("quicklist plain node", cancellationToken).ConfigureAwait(false);
                    }
                    total++;
                    continue;
                }
                var blobStart = _input.Position;
                var blob = await ReadBlobAsync("quicklist node", sink != null, cancellationToken).ConfigureAwait(false);
                if (blob is null)
                {
                    anyNodeUnchecked = true;
                    continue;
                }
                var error = type == RdbFormat.TypeListQuicklist
                    ? PackedEncodings.Ziplist(blob, items, out var count)
                    : PackedEncodings.Listpack(blob, items, out count);
                if (error != null)
                {
                    throw _input.Corrupt("quicklist node integrity check failed: " + error, blobStart);
                }
                total += count;
                if (sink != null)
                {
                    foreach (var item in items!)
                    {
                        await sink.ListItemAsync(item, cancellationToken).ConfigureAwait(false);
                    }
                    items!.Clear();
                }
            }
            if (total == 0 && !anyNodeUnchecked && (_validate || sink != null))
            {
                throw _input.Corrupt("empty value (every quicklist node is empty)", start);
            }
        }

        private async ValueTask WalkHashWithFieldExpiryAsync(byte type, IRdbElementSink? sink, CancellationToken cancellationToken)
        {
            long minimumExpiry = 0;
            if (type == RdbFormat.TypeHashMetadata)
            {
                minimumExpiry = (long)await ReadUInt64Async("hash minimum field expiry", cancellationToken).ConfigureAwait(false);
            }
            var count = await ReadElementCountAsync("hash field count", 3, cancellationToken).ConfigureAwait(false);
            for (ulong i = 0; i < count; i++)
            {
                var ttl = await ReadLengthAsync("hash field expiry", cancellationToken).ConfigureAwait(false);
                if (sink != null)
                {
                    var field = await ReadStringAsync("hash field", int.MaxValue - 64, cancellationToken).ConfigureAwait(false);
                    var value = await ReadStringAsync("hash value", int.MaxValue - 64, cancellationToken).ConfigureAwait(false);
                    long? expiry = ttl == 0 ? null : type == RdbFormat.TypeHashMetadata ? (long)ttl + minimumExpiry - 1 : (long)ttl;
                    await sink.HashFieldAsync(new RdbHashField(field, value, expiry), cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await SkipStringAsync("hash field", cancellationToken).ConfigureAwait(false);
                    await SkipStringAsync("hash value", cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private async ValueTask<RdbStreamId> ReadStreamIdLengthsAsync(string what, CancellationToken cancellationToken)
        {
            var milliseconds = await ReadLengthAsync(what, cancellationToken).ConfigureAwait(false);
            var sequence = await ReadLengthAsync(what, cancellationToken).ConfigureAwait(false);
            return new RdbStreamId(milliseconds, sequence);
        }

        private async ValueTask<RdbStreamId> ReadRawStreamIdAsync(string what, CancellationToken cancellationToken)
        {
            await _input.EnsureAsync(StreamIdSize, what, cancellationToken).ConfigureAwait(false);
            var raw = _input.Take(StreamIdSize);
            return new RdbStreamId(BinaryPrimitives.ReadUInt64BigEndian(raw), BinaryPrimitives.ReadUInt64BigEndian(raw.Slice(8)));
        }

        private async ValueTask WalkStreamAsync(byte type, IRdbElementSink? sink, CancellationToken cancellationToken)
        {
            var decode = sink != null;
            // One node's entries at a time: a stream is handed on node by node, never held whole.
            var entries = decode ? new List<RdbStreamEntry>() : null;
            var nodes = await ReadLengthAsync("stream listpack count", cancellationToken).ConfigureAwait(false);
            _input.CheckRemaining((long)Math.Min(nodes, long.MaxValue), "stream listpack count");
            for (ulong i = 0; i < nodes; i++)
            {
                var idStart = _input.Position;
                var masterId = await ReadStringAsync("stream node id", StreamIdSize, cancellationToken).ConfigureAwait(false);
                if (masterId.Length != StreamIdSize)
                {
                    throw _input.Corrupt($"stream node id of {masterId.Length} bytes, expected {StreamIdSize}", idStart);
                }
                var blobStart = _input.Position;
                var blob = await ReadBlobAsync("stream listpack", decode, cancellationToken).ConfigureAwait(false);
                if (blob is null)
                {
                    continue;
                }
                var items = decode ? new List<byte[]>() : null;
                var error = PackedEncodings.Listpack(blob, items, out var count);
                if (error != null)
                {
                    throw _input.Corrupt("stream listpack integrity check failed: " + error, blobStart);
                }
                if (count == 0)
                {
                    throw _input.Corrupt("empty listpack inside a stream", blobStart);
                }
                if (sink != null)
                {
                    var master = new RdbStreamId(BinaryPrimitives.ReadUInt64BigEndian(masterId), BinaryPrimitives.ReadUInt64BigEndian(masterId.AsSpan(8)));
                    DecodeStreamNode(master, items!, entries!, blobStart);
                    foreach (var entry in entries!)
                    {
                        await sink.StreamEntryAsync(entry, cancellationToken).ConfigureAwait(false);
                    }
                    entries!.Clear();
                }
            }
            var length = await ReadLengthAsync("stream length", cancellationToken).ConfigureAwait(false);
            var lastId = await ReadStreamIdLengthsAsync("stream last id", cancellationToken).ConfigureAwait(false);
            RdbStreamId? firstId = null;
            RdbStreamId? maxDeletedId = null;
            ulong? entriesAdded = null;
            if (type >= RdbFormat.TypeStreamListpacks2)
            {
                firstId = await ReadStreamIdLengthsAsync("stream first id", cancellationToken).ConfigureAwait(false);
                maxDeletedId = await ReadStreamIdLengthsAsync("stream max deleted id", cancellationToken).ConfigureAwait(false);
                entriesAdded = await ReadLengthAsync("stream entries added", cancellationToken).ConfigureAwait(false);
            }
            if (sink != null)
            {
                await sink.StreamInfoAsync(new RdbStreamInfo(length, lastId, firstId, maxDeletedId, entriesAdded), cancellationToken).ConfigureAwait(false);
            }
            var groups = await ReadLengthAsync("stream consumer group count", cancellationToken).ConfigureAwait(false);
            _input.CheckRemaining((long)Math.Min(groups, long.MaxValue), "stream consumer group count");
            for (ulong g = 0; g < groups; g++)
            {
                var name = await ReadStringAsync("consumer group name", MaxNameLength, cancellationToken).ConfigureAwait(false);
                var delivered = await ReadStreamIdLengthsAsync("consumer group last delivered id", cancellationToken).ConfigureAwait(false);
                ulong? entriesRead = type >= RdbFormat.TypeStreamListpacks2
                    ? await ReadLengthAsync("consumer group entries read", cancellationToken).ConfigureAwait(false)
                    : null;
                var pendingCount = await ReadLengthAsync("consumer group pending count", cancellationToken).ConfigureAwait(false);
                _input.CheckRemaining((long)Math.Min(pendingCount, long.MaxValue / 2) * 2, "consumer group pending count");
                var pending = decode ? new List<RdbStreamPendingEntry>() : null;
                for (ulong p = 0; p < pendingCount; p++)
                {
                    var id = await ReadRawStreamIdAsync("pending entry id", cancellationToken).ConfigureAwait(false);
                    var deliveryTime = (long)await ReadUInt64Async("pending entry delivery time", cancellationToken).ConfigureAwait(false);
                    var deliveries = await ReadLengthAsync("pending entry delivery count", cancellationToken).ConfigureAwait(false);
                    pending?.Add(new RdbStreamPendingEntry(id, deliveryTime, deliveries));
                }
                var consumerCount = await ReadLengthAsync("consumer count", cancellationToken).ConfigureAwait(false);
                _input.CheckRemaining((long)Math.Min(consumerCount, long.MaxValue), "consumer count");
                var consumers = decode ? new List<RdbStreamConsumer>() : null;
                for (ulong c = 0; c < consumerCount; c++)
                {
                    var consumerName = await ReadStringAsync("consumer name", MaxNameLength, cancellationToken).ConfigureAwait(false);
                    var seen = (long)await ReadUInt64Async("consumer seen time", cancellationToken).ConfigureAwait(false);
                    long? active = type >= RdbFormat.TypeStreamListpacks3
                        ? (long)await ReadUInt64Async("consumer active time", cancellationToken).ConfigureAwait(false)
                        : null;
                    var ownedCount = await ReadLengthAsync("consumer pending count", cancellationToken).ConfigureAwait(false);
                    _input.CheckRemaining((long)Math.Min(ownedCount, long.MaxValue / StreamIdSize) * StreamIdSize, "consumer pending count");
                    var owned = decode ? new List<RdbStreamId>() : null;
                    for (ulong o = 0; o < ownedCount; o++)
                    {
                        var id = await ReadRawStreamIdAsync("consumer pending id", cancellationToken).ConfigureAwait(false);
                        owned?.Add(id);
                    }
                    consumers?.Add(new RdbStreamConsumer(consumerName, seen, active, owned!));
                }
                if (sink != null)
                {
                    await sink.StreamGroupAsync(new RdbStreamGroup(name, delivered, entriesRead, pending!, consumers!), cancellationToken).ConfigureAwait(false);
                }
            }
            if (type >= RdbFormat.TypeStreamListpacks4)
            {
                await ReadLengthAsync("stream idempotency duration", cancellationToken).ConfigureAwait(false);
                await ReadLengthAsync("stream idempotency maximum entries", cancellationToken).ConfigureAwait(false);
                var producers = await ReadLengthAsync("stream producer count", cancellationToken).ConfigureAwait(false);
                _input.CheckRemaining((long)Math.Min(producers, long.MaxValue), "stream producer count");
                for (ulong p = 0; p < producers; p++)
                {
                    var producer = await ReadStringAsync("stream producer name", MaxNameLength, cancellationToken).ConfigureAwait(false);
                    var idCount = await ReadLengthAsync("stream producer id count", cancellationToken).ConfigureAwait(false);
                    _input.CheckRemaining((long)Math.Min(idCount, long.MaxValue), "stream producer id count");
                    var ids = decode ? new List<KeyValuePair<byte[], RdbStreamId>>() : null;
                    for (ulong i = 0; i < idCount; i++)
                    {
                        var iid = await ReadStringAsync("stream idempotency id", MaxNameLength, cancellationToken).ConfigureAwait(false);
                        var id = await ReadStreamIdLengthsAsync("stream idempotency entry id", cancellationToken).ConfigureAwait(false);
                        ids?.Add(new KeyValuePair<byte[], RdbStreamId>(iid, id));
                    }
                    if (sink != null)
                    {
                        await sink.StreamProducerAsync(new RdbStreamProducer(producer, ids!), cancellationToken).ConfigureAwait(false);
                    }
                }
                await ReadLengthAsync("stream idempotency ids added", cancellationToken).ConfigureAwait(false);
                await ReadLengthAsync("stream idempotency duplicates", cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// A stream node listpack: a master entry (count, deleted, field names, terminator) then entries as id deltas
        /// with either the master's fields (flag SAMEFIELDS) or their own, each followed by its element count.
        /// </summary>
        private void DecodeStreamNode(RdbStreamId master, List<byte[]> items, List<RdbStreamEntry> entries, long offset)
        {
            var at = 0;
            byte[] Next()
            {
                if (at >= items.Count)
                {
                    throw _input.Corrupt("stream listpack ends inside an entry", offset);
                }
                return items[at++];
            }
            long NextNumber() => ParseInteger(Next(), offset);

            var valid = NextNumber();
            var deleted = NextNumber();
            var masterFieldCount = NextNumber();
            if (valid < 0 || deleted < 0 || masterFieldCount < 0 || masterFieldCount > items.Count)
            {
                throw _input.Corrupt("stream listpack master entry is malformed", offset);
            }
            var masterFields = new byte[masterFieldCount][];
            for (var i = 0; i < masterFieldCount; i++)
            {
                masterFields[i] = Next();
            }
            NextNumber();
            for (long entry = 0; entry < valid + deleted; entry++)
            {
                var flags = NextNumber();
                var id = new RdbStreamId(master.Milliseconds + (ulong)NextNumber(), master.Sequence + (ulong)NextNumber());
                var fields = new List<KeyValuePair<byte[], byte[]>>();
                if ((flags & StreamItemSameFields) != 0)
                {
                    foreach (var field in masterFields)
                    {
                        fields.Add(new KeyValuePair<byte[], byte[]>(field, Next()));
                    }
                }
                else
                {
                    var fieldCount = NextNumber();
                    if (fieldCount < 0 || fieldCount > items.Count)
                    {
                        throw _input.Corrupt("stream entry field count is malformed", offset);
                    }
                    for (var f = 0; f < fieldCount; f++)
                    {
                        var name = Next();
                        fields.Add(new KeyValuePair<byte[], byte[]>(name, Next()));
                    }
                }
                NextNumber();
                if ((flags & StreamItemDeleted) == 0)
                {
                    entries.Add(new RdbStreamEntry(id, fields));
                }
            }
            if (at != items.Count)
            {
                throw _input.Corrupt("stream listpack holds elements after its last entry", offset);
            }
        }

        /// <summary>The self-delimiting opcode sequence of module values and module aux data.</summary>
        public async ValueTask WalkModuleOpcodesAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var start = _input.Position;
                var opcode = await ReadLengthAsync("module opcode", cancellationToken).ConfigureAwait(false);
                switch (opcode)
                {
                    case 0:
                        return;
                    case 1:
                    case 2:
                        await ReadLengthAsync("module integer", cancellationToken).ConfigureAwait(false);
                        break;
                    case 3:
                        await _input.SkipAsync(4, "module float", cancellationToken).ConfigureAwait(false);
                        break;
                    case 4:
                        await _input.SkipAsync(8, "module double", cancellationToken).ConfigureAwait(false);
                        break;
                    case 5:
                        await SkipStringAsync("module string", cancellationToken).ConfigureAwait(false);
                        break;
                    default:
                        throw _input.Corrupt($"unknown module opcode {opcode}", start);
                }
            }
        }

        private long ParseInteger(byte[] text, long offset)
        {
            if (!long.TryParse(Encoding.ASCII.GetString(text), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                throw _input.Corrupt("expected an integer element", offset);
            }
            return value;
        }

        private double ParseDouble(byte[] text, long offset)
        {
            var s = Encoding.ASCII.GetString(text);
            switch (s)
            {
                case "inf":
                case "+inf":
                    return double.PositiveInfinity;
                case "-inf":
                    return double.NegativeInfinity;
            }
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw _input.Corrupt("expected a score element", offset);
            }
            return value;
        }
    }
}
