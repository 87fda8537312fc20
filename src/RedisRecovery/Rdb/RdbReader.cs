using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// Reads an RDB from any Stream, one entry at a time, with one pooled buffer: constant memory whatever the size
    /// of the file or of a value. Metadata (aux fields, functions, module aux, slot info, resize hints) is collected
    /// in <see cref="Info"/>. After the EOF opcode and checksum, <see cref="EndOffset"/> is where the RDB ends; the
    /// stream may go on (an AOF with an RDB preamble), and the reader reads nothing it does not need beyond one
    /// buffer (<see cref="ReadAheadBytes"/>).
    /// </summary>
    public sealed class RdbReader : IDisposable, IAsyncDisposable
    {
        private const int HeaderLength = 9;

        private readonly Stream _stream;
        private readonly RdbReaderOptions _options;
        private readonly RdbInput _input;
        private readonly RdbValueWalker _walker;
        private readonly ValueCapture? _capture;
        private bool _headerRead;
        private bool _finished;
        private int _database;
        private RdbEntry? _pending;

        public RdbReader(Stream stream, RdbReaderOptions? options = null)
        {
            _stream = stream ?? throw new ArgumentNullException(nameof(stream));
            _options = options ?? new RdbReaderOptions();
            _options.Validate();
            var baseOffset = _options.BaseOffset ?? (stream.CanSeek ? stream.Position : 0);
            _input = new RdbInput(stream, _options.SourceName, baseOffset, _options.BufferSize);
            _walker = new RdbValueWalker(_input, _options.ValidateEncodings, _options.MaxValidatedBlobSize);
            StartOffset = baseOffset;
            if (_options.CaptureValues)
            {
                _capture = new ValueCapture(_options.LargeValueThreshold);
            }
        }

        public RdbFileInfo Info { get; } = new RdbFileInfo();

        public string SourceName => _options.SourceName;

        /// <summary>Offset of the RDB's first byte.</summary>
        public long StartOffset { get; }

        /// <summary>Offset of the next byte the reader will consume.</summary>
        public long Position => _input.Position;

        /// <summary>Total length of the source, when the stream knows it (for progress).</summary>
        public long? KnownEnd => _input.KnownEnd;

        /// <summary>Offset just past the checksum once the EOF opcode has been read; null before.</summary>
        public long? EndOffset { get; private set; }

        public RdbChecksumStatus ChecksumStatus { get; private set; }

        /// <summary>The checksum stored in the file and the one computed while reading (both 0 before the end).</summary>
        public ulong StoredChecksum { get; private set; }

        public ulong ComputedChecksum { get; private set; }

        /// <summary>Bytes already read from the stream beyond <see cref="EndOffset"/>: a caller continuing on a stream it
        /// cannot seek starts with these.</summary>
        public ReadOnlyMemory<byte> ReadAheadBytes => EndOffset is null ? ReadOnlyMemory<byte>.Empty : _input.ReadAhead;

        /// <summary>The key of the last entry read completely (for error reports).</summary>
        public string? LastGoodKey => _input.LastGoodKey;

        public async ValueTask<RdbFileInfo> ReadHeaderAsync(CancellationToken cancellationToken = default)
        {
            if (_headerRead)
            {
                return Info;
            }
            _input.StartCrc();
            var available = await _input.TryEnsureAsync(HeaderLength, cancellationToken).ConfigureAwait(false);
            var header = Encoding.ASCII.GetString(_input.Buffered.Slice(0, available).ToArray());
            var signatureLength = header.StartsWith("VALKEY", StringComparison.Ordinal) ? 6 : 5;
            if (available < HeaderLength)
            {
                throw _input.Corrupt(available == 0 ? "empty input: expected the RDB header 'REDIS' + 4-digit version" : "unexpected end of data in the RDB header", StartOffset + available);
            }
            if (!header.StartsWith("REDIS", StringComparison.Ordinal) && signatureLength != 6)
            {
                throw _input.Corrupt("not an RDB file: expected the signature 'REDIS' or 'VALKEY'", StartOffset);
            }
            var digits = header.Substring(signatureLength);
            var version = 0;
            foreach (var c in digits)
            {
                if (c < '0' || c > '9')
                {
                    throw _input.Corrupt("RDB header version is not a number", StartOffset + signatureLength);
                }
                version = version * 10 + (c - '0');
            }
            var supported = signatureLength == 6 ? version == RdbFormat.ValkeyVersion : version >= 1 && version <= RdbFormat.NewestVersion;
            if (!supported)
            {
                throw new RdbFormatNotSupportedException(SourceName, StartOffset + signatureLength,
                    $"{header.Substring(0, signatureLength)} RDB version {version} is not supported (this reader knows REDIS versions 1 to {RdbFormat.NewestVersion} and VALKEY {RdbFormat.ValkeyVersion})");
            }
            _input.Take(HeaderLength);
            Info.Signature = header.Substring(0, signatureLength);
            Info.Version = version;
            _headerRead = true;
            return Info;
        }

        /// <summary>The next entry, or null after the EOF opcode (then <see cref="EndOffset"/> and
        /// <see cref="ChecksumStatus"/> are set). A previous entry's large value that was not streamed is discarded.</summary>
        public async ValueTask<RdbEntry?> ReadEntryAsync(CancellationToken cancellationToken = default)
        {
            if (_pending != null)
            {
                var pending = _pending;
                _pending = null;
                await pending.DiscardPendingValueAsync(cancellationToken).ConfigureAwait(false);
                _input.LastGoodKeyBytes = pending.Key;
            }
            if (!_headerRead)
            {
                await ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
            }
            if (_finished)
            {
                return null;
            }
            long? expiresAt = null;
            ulong? idle = null;
            byte? frequency = null;
            var entryStart = -1L;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await _input.EnsureAsync(1, "expected an opcode or a value type", cancellationToken).ConfigureAwait(false);
                var opcodeStart = _input.Position;
                var opcode = _input.ReadByte();
                if (entryStart < 0)
                {
                    entryStart = opcodeStart;
                }
                switch (opcode)
                {
                    case RdbFormat.OpcodeEof:
                        await FinishAsync(cancellationToken).ConfigureAwait(false);
                        return null;
                    case RdbFormat.OpcodeExpireTime:
                        await _input.EnsureAsync(4, "expiry time in seconds", cancellationToken).ConfigureAwait(false);
                        expiresAt = (long)(int)_input.ReadUInt32LittleEndian() * 1000;
                        continue;
                    case RdbFormat.OpcodeExpireTimeMs:
                        expiresAt = (long)await _walker.ReadUInt64Async("expiry time in milliseconds", cancellationToken).ConfigureAwait(false);
                        continue;
                    case RdbFormat.OpcodeIdle:
                        idle = await _walker.ReadLengthAsync("LRU idle time", cancellationToken).ConfigureAwait(false);
                        continue;
                    case RdbFormat.OpcodeFreq:
                        frequency = await _walker.ReadByteAsync("LFU frequency", cancellationToken).ConfigureAwait(false);
                        continue;
                    case RdbFormat.OpcodeRamLru when Info.Version < RdbFormat.ValkeyVersion:
                        // Redis Enterprise writes its own LRU clock here; it has no meaning for open-source Redis (and in
                        // Valkey's own versions the byte is reserved, so it falls to the not-supported check below).
                        await _walker.ReadLengthAsync("RAM LRU value", cancellationToken).ConfigureAwait(false);
                        continue;
                }
                if (opcode >= RdbFormat.OpcodeSlotInfo)
                {
                    await ReadMetadataAsync(opcode, opcodeStart, cancellationToken).ConfigureAwait(false);
                    entryStart = -1;
                    continue;
                }
                if (RdbFormat.IsValkeyOwnType(opcode, Info.Version))
                {
                    throw new RdbFormatNotSupportedException(SourceName, opcodeStart, $"Valkey RDB value type or opcode {opcode} is not supported");
                }
                if (!RdbFormat.IsKnownValueType(opcode))
                {
                    if (Info.Version > 12 || Info.Signature != "REDIS" || opcode == RdbFormat.TypeModulePreGa)
                    {
                        throw new RdbFormatNotSupportedException(SourceName, opcodeStart, $"RDB value type or opcode {opcode} is not supported");
                    }
                    throw _input.Corrupt($"unknown value type or opcode {opcode}", opcodeStart);
                }
                var key = await ReadNameAsync("key", cancellationToken).ConfigureAwait(false);
                var entry = new RdbEntry(_database, key, opcode, entryStart, Info.Version)
                {
                    ExpiresAtMs = expiresAt,
                    IdleSeconds = idle,
                    LfuFrequency = frequency,
                    ValueOffset = _input.Position,
                };
                await ReadValueAsync(entry, cancellationToken).ConfigureAwait(false);
                return entry;
            }
        }

        /// <summary>The opcodes that describe the file rather than a key (database switches, hints, aux fields,
        /// module aux data, functions, slot info); they are collected in <see cref="Info"/>.</summary>
        private async ValueTask ReadMetadataAsync(byte opcode, long opcodeStart, CancellationToken cancellationToken)
        {
            switch (opcode)
            {
                case RdbFormat.OpcodeSelectDb:
                    _database = await _walker.ReadLengthAsIntAsync("database number", int.MaxValue, cancellationToken).ConfigureAwait(false);
                    break;
                case RdbFormat.OpcodeResizeDb:
                    var size = await _walker.ReadLengthAsync("database size hint", cancellationToken).ConfigureAwait(false);
                    var expiresSize = await _walker.ReadLengthAsync("expires size hint", cancellationToken).ConfigureAwait(false);
                    Info.ResizeDb.Add(new RdbResizeDb(_database, size, expiresSize));
                    break;
                case RdbFormat.OpcodeAux:
                    var name = await ReadNameAsync("aux field name", cancellationToken).ConfigureAwait(false);
                    var value = await ReadNameAsync("aux field value", cancellationToken).ConfigureAwait(false);
                    Info.AuxFields.Add(new RdbAuxField(Encoding.UTF8.GetString(name), value));
                    break;
                case RdbFormat.OpcodeModuleAux:
                    var moduleId = await _walker.ReadLengthAsync("module aux id", cancellationToken).ConfigureAwait(false);
                    var whenOpcode = await _walker.ReadLengthAsync("module aux when opcode", cancellationToken).ConfigureAwait(false);
                    if (whenOpcode != 2)
                    {
                        throw _input.Corrupt($"module aux 'when' opcode {whenOpcode}, expected 2 (unsigned integer)", opcodeStart);
                    }
                    var when = await _walker.ReadLengthAsync("module aux when", cancellationToken).ConfigureAwait(false);
                    await _walker.WalkModuleOpcodesAsync(cancellationToken).ConfigureAwait(false);
                    Info.ModuleAux.Add(new RdbModuleAux(moduleId, when, opcodeStart));
                    break;
                case RdbFormat.OpcodeFunctionPreGa:
                    var functionName = await ReadNameAsync("function name", cancellationToken).ConfigureAwait(false);
                    var engine = await ReadNameAsync("function engine", cancellationToken).ConfigureAwait(false);
                    var hasDescription = await _walker.ReadLengthAsync("function description flag", cancellationToken).ConfigureAwait(false);
                    var description = hasDescription != 0 ? await ReadNameAsync("function description", cancellationToken).ConfigureAwait(false) : null;
                    var preGaCode = await ReadNameAsync("function code", cancellationToken).ConfigureAwait(false);
                    Info.Functions.Add(new RdbFunctionLibrary(preGaCode, Encoding.UTF8.GetString(functionName), Encoding.UTF8.GetString(engine),
                        description is null ? null : Encoding.UTF8.GetString(description)));
                    break;
                case RdbFormat.OpcodeFunction2:
                    Info.Functions.Add(new RdbFunctionLibrary(await ReadNameAsync("function library code", cancellationToken).ConfigureAwait(false)));
                    break;
                case RdbFormat.OpcodeSlotInfo:
                    var slot = await _walker.ReadLengthAsync("slot id", cancellationToken).ConfigureAwait(false);
                    var slotSize = await _walker.ReadLengthAsync("slot size", cancellationToken).ConfigureAwait(false);
                    var slotExpires = await _walker.ReadLengthAsync("slot expires size", cancellationToken).ConfigureAwait(false);
                    Info.SlotInfo.Add(new RdbSlotInfo(slot, slotSize, slotExpires));
                    break;
            }
        }

        private ValueTask<byte[]> ReadNameAsync(string what, CancellationToken cancellationToken) =>
            _walker.ReadStringAsync(what, RdbValueWalker.MaxNameLength, cancellationToken);

        public async IAsyncEnumerable<RdbEntry> ReadEntriesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            while (await ReadEntryAsync(cancellationToken).ConfigureAwait(false) is RdbEntry entry)
            {
                yield return entry;
            }
        }

        private ValueTask ReadValueAsync(RdbEntry entry, CancellationToken cancellationToken)
        {
            if (_capture is null)
            {
                var walk = _walker.WalkValueAsync(entry.TypeId, sink: null, cancellationToken);
                if (walk.IsCompletedSuccessfully)
                {
                    CompleteUncaptured(entry, walk.Result);
                    return default;
                }
                return WalkUncapturedAsync(entry, walk);
            }
            return ReadCapturedValueAsync(entry, _capture, cancellationToken);
        }

        private async ValueTask WalkUncapturedAsync(RdbEntry entry, ValueTask<RdbValueEncoding> walk)
        {
            CompleteUncaptured(entry, await walk.ConfigureAwait(false));
        }

        private void CompleteUncaptured(RdbEntry entry, RdbValueEncoding encoding)
        {
            entry.Encoding = encoding;
            entry.ValueLength = _input.Position - entry.ValueOffset;
            _input.LastGoodKeyBytes = entry.Key;
        }

        private async ValueTask ReadCapturedValueAsync(RdbEntry entry, ValueCapture capture, CancellationToken cancellationToken)
        {
            capture.Reset();
            _input.BeginCapture(capture);
            var walk = WalkCapturedAsync(entry, cancellationToken);
            if (!walk.IsCompletedSuccessfully)
            {
                var walkTask = walk.AsTask();
                capture.Walk = walkTask;
                var first = await Task.WhenAny(walkTask, capture.OverflowSignal()).ConfigureAwait(false);
                if (first != walkTask)
                {
                    entry.SetLargeValue(capture);
                    _pending = entry;
                    return;
                }
                try
                {
                    await walkTask.ConfigureAwait(false);
                }
                catch
                {
                    _input.AbandonCapture();
                    throw;
                }
            }
            entry.SetBufferedValue(capture.Captured.ToArray());
            _input.LastGoodKeyBytes = entry.Key;
        }

        private async ValueTask WalkCapturedAsync(RdbEntry entry, CancellationToken cancellationToken)
        {
            entry.Encoding = await _walker.WalkValueAsync(entry.TypeId, sink: null, cancellationToken).ConfigureAwait(false);
            await _input.EndCaptureAsync(cancellationToken).ConfigureAwait(false);
        }

        private async ValueTask FinishAsync(CancellationToken cancellationToken)
        {
            var checksumOffset = _input.Position;
            var computed = _input.CurrentCrc();
            _input.StopCrc();
            if (Info.Version >= 5)
            {
                await _input.EnsureAsync(8, "the CRC64 checksum after the EOF opcode", cancellationToken).ConfigureAwait(false);
                StoredChecksum = _input.ReadUInt64LittleEndian();
                ComputedChecksum = computed;
                ChecksumStatus = StoredChecksum == 0 ? RdbChecksumStatus.NotComputed
                    : StoredChecksum == computed ? RdbChecksumStatus.Valid
                    : RdbChecksumStatus.Mismatch;
            }
            else
            {
                ChecksumStatus = RdbChecksumStatus.NotComputed;
            }
            _finished = true;
            EndOffset = _input.Position;
            if (ChecksumStatus == RdbChecksumStatus.Mismatch && _options.VerifyChecksum)
            {
                throw _input.Corrupt($"CRC64 checksum mismatch: the file says 0x{StoredChecksum:x16}, the data gives 0x{computed:x16}", checksumOffset);
            }
        }

        public void Dispose()
        {
            if (_pending?.IsLargeValuePending == true)
            {
                _capture!.Abandon();
            }
            _input.Dispose();
            _capture?.Dispose();
            if (!_options.LeaveOpen)
            {
                _stream.Dispose();
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
