using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    public sealed class RdbWriterOptions
    {
        /// <summary>The header version; choose the newest the target server understands (Redis 7.0 reads up to 10).</summary>
        public int Version { get; init; } = 10;

        public bool LeaveOpen { get; init; }

        /// <summary>Write the CRC64 trailer (versions 5 and later); off writes a zero trailer, as rdbchecksum no does.</summary>
        public bool WriteChecksum { get; init; } = true;

        public int BufferSize { get; init; } = 128 * 1024;
    }

    /// <summary>
    /// Writes an RDB file from entries: header, aux fields, functions, then keys grouped by SELECTDB, and the EOF
    /// opcode with the CRC64 computed while writing. Values are copied as serialized (large ones streamed), so a
    /// file written at the reader's version loads exactly as the original.
    /// </summary>
    public sealed class RdbWriter : IAsyncDisposable, IDisposable
    {
        private readonly Stream _stream;
        private readonly RdbWriterOptions _options;
        private readonly CrcStream _output;
        private int _database = -1;
        private bool _headerWritten;
        private bool _completed;

        public RdbWriter(Stream stream, RdbWriterOptions? options = null)
        {
            _stream = stream ?? throw new ArgumentNullException(nameof(stream));
            _options = options ?? new RdbWriterOptions();
            if (_options.Version < 1 || _options.Version > RdbFormat.NewestVersion)
            {
                throw new ArgumentOutOfRangeException(nameof(options), $"RDB version {_options.Version} cannot be written (1 to {RdbFormat.NewestVersion}).");
            }
            _output = new CrcStream(stream, _options.BufferSize);
        }

        public int Version => _options.Version;

        public long BytesWritten => _output.Position;

        public async ValueTask WriteHeaderAsync(CancellationToken cancellationToken = default)
        {
            if (_headerWritten)
            {
                throw new InvalidOperationException("The RDB header has already been written.");
            }
            _headerWritten = true;
            await _output.WriteSpanAsync(Encoding.ASCII.GetBytes("REDIS" + _options.Version.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>An AUX field. Redis writes them from RDB version 7 on; servers older than that cannot read them.</summary>
        public async ValueTask WriteAuxAsync(string name, byte[] value, CancellationToken cancellationToken = default)
        {
            await EnsureHeaderAsync(cancellationToken).ConfigureAwait(false);
            await _output.WriteByteAsync(RdbFormat.OpcodeAux, cancellationToken).ConfigureAwait(false);
            await WriteStringAsync(Encoding.UTF8.GetBytes(name), cancellationToken).ConfigureAwait(false);
            await WriteStringAsync(value, cancellationToken).ConfigureAwait(false);
        }

        public ValueTask WriteAuxAsync(string name, string value, CancellationToken cancellationToken = default) =>
            WriteAuxAsync(name, Encoding.UTF8.GetBytes(value), cancellationToken);

        /// <summary>A function library (RDB 10 and later).</summary>
        public async ValueTask WriteFunctionAsync(byte[] code, CancellationToken cancellationToken = default)
        {
            await EnsureHeaderAsync(cancellationToken).ConfigureAwait(false);
            RequireVersion(10, "function libraries");
            await _output.WriteByteAsync(RdbFormat.OpcodeFunction2, cancellationToken).ConfigureAwait(false);
            await WriteStringAsync(code, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Writes an entry read by <see cref="RdbReader"/> (or made from a DUMP payload), streaming a large value.</summary>
        public async ValueTask WriteEntryAsync(RdbEntry entry, CancellationToken cancellationToken = default)
        {
            await WriteKeyHeaderAsync(entry.Database, entry.Key, entry.TypeId, entry.ExpiresAtMs, entry.IdleSeconds, entry.LfuFrequency, cancellationToken).ConfigureAwait(false);
            await entry.CopyValueToAsync(_output, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Writes a key with a serialized value (e.g. the body of a DUMP payload).</summary>
        public async ValueTask WriteEntryAsync(int database, byte[] key, byte typeId, ReadOnlyMemory<byte> value, long? expiresAtMs = null,
            CancellationToken cancellationToken = default)
        {
            await WriteKeyHeaderAsync(database, key, typeId, expiresAtMs, null, null, cancellationToken).ConfigureAwait(false);
            await _output.WriteSpanAsync(value, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Writes the EOF opcode and the checksum, and flushes.</summary>
        public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
        {
            await EnsureHeaderAsync(cancellationToken).ConfigureAwait(false);
            await _output.WriteByteAsync(RdbFormat.OpcodeEof, cancellationToken).ConfigureAwait(false);
            if (_options.Version >= 5)
            {
                var trailer = new byte[8];
                if (_options.WriteChecksum)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(trailer, _output.Crc);
                }
                await _output.WriteSpanAsync(trailer, cancellationToken).ConfigureAwait(false);
            }
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
            _completed = true;
        }

        private async ValueTask WriteKeyHeaderAsync(int database, byte[] key, byte typeId, long? expiresAtMs, ulong? idle, byte? frequency, CancellationToken cancellationToken)
        {
            if (_completed)
            {
                throw new InvalidOperationException("The RDB has already been completed.");
            }
            await EnsureHeaderAsync(cancellationToken).ConfigureAwait(false);
            if (!RdbFormat.IsKnownValueType(typeId))
            {
                throw new ArgumentException($"RDB value type {typeId} is unknown.", nameof(typeId));
            }
            RequireVersion(RdbFormat.MinimumVersionOf(typeId), $"values of RDB type {typeId}");
            if (database < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(database));
            }
            if (database != _database)
            {
                await _output.WriteByteAsync(RdbFormat.OpcodeSelectDb, cancellationToken).ConfigureAwait(false);
                await WriteLengthAsync((ulong)database, cancellationToken).ConfigureAwait(false);
                _database = database;
            }
            if (expiresAtMs is long expiry)
            {
                if (_options.Version >= 3)
                {
                    var bytes = new byte[9];
                    bytes[0] = RdbFormat.OpcodeExpireTimeMs;
                    BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), expiry);
                    await _output.WriteSpanAsync(bytes, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    var bytes = new byte[5];
                    bytes[0] = RdbFormat.OpcodeExpireTime;
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(1), checked((int)(expiry / 1000)));
                    await _output.WriteSpanAsync(bytes, cancellationToken).ConfigureAwait(false);
                }
            }
            if (_options.Version >= 9)
            {
                if (idle is ulong seconds)
                {
                    await _output.WriteByteAsync(RdbFormat.OpcodeIdle, cancellationToken).ConfigureAwait(false);
                    await WriteLengthAsync(seconds, cancellationToken).ConfigureAwait(false);
                }
                if (frequency is byte count)
                {
                    await _output.WriteSpanAsync(new[] { RdbFormat.OpcodeFreq, count }, cancellationToken).ConfigureAwait(false);
                }
            }
            await _output.WriteByteAsync(typeId, cancellationToken).ConfigureAwait(false);
            await WriteStringAsync(key, cancellationToken).ConfigureAwait(false);
        }

        private void RequireVersion(int needed, string what)
        {
            if (_options.Version < needed)
            {
                throw new RedisRecoveryException("RdbVersionTooOld", FailureKind.NotSupported,
                    $"RDB version {_options.Version} cannot hold {what}; they need version {needed} or later.");
            }
        }

        private async ValueTask EnsureHeaderAsync(CancellationToken cancellationToken)
        {
            if (!_headerWritten)
            {
                await WriteHeaderAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        private ValueTask WriteLengthAsync(ulong length, CancellationToken cancellationToken)
        {
            var buffer = new byte[9];
            return _output.WriteSpanAsync(buffer.AsMemory(0, EncodeLength(length, buffer)), cancellationToken);
        }

        private async ValueTask WriteStringAsync(byte[] bytes, CancellationToken cancellationToken)
        {
            await WriteLengthAsync((ulong)bytes.Length, cancellationToken).ConfigureAwait(false);
            await _output.WriteSpanAsync(bytes, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The RDB length encoding: 6 bits, 14 bits, or a 32/64-bit big-endian number after a marker byte.</summary>
        internal static int EncodeLength(ulong length, Span<byte> destination)
        {
            if (length < 1 << 6)
            {
                destination[0] = (byte)length;
                return 1;
            }
            if (length < 1 << 14)
            {
                destination[0] = (byte)(0x40 | (length >> 8));
                destination[1] = (byte)length;
                return 2;
            }
            if (length <= uint.MaxValue)
            {
                destination[0] = 0x80;
                BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(1), (uint)length);
                return 5;
            }
            destination[0] = 0x81;
            BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(1), length);
            return 9;
        }

        public void Dispose()
        {
            _output.ReleaseBuffer();
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

        /// <summary>A write-only buffered stream that keeps the CRC64 of everything written through it.</summary>
        private sealed class CrcStream : ForwardOnlyStream
        {
            private readonly Stream _inner;
            private byte[] _buffer;
            private int _count;
            private long _position;

            public CrcStream(Stream inner, int bufferSize)
            {
                _inner = inner;
                _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
            }

            public ulong Crc { get; private set; }

            public override bool CanRead => false;

            public override bool CanWrite => true;

            public override long Position
            {
                get => _position;
                set => throw new NotSupportedException();
            }

            public ValueTask WriteByteAsync(byte value, CancellationToken cancellationToken)
            {
                if (_count < _buffer.Length)
                {
                    _buffer[_count] = value;
                    Crc = Crc64.Update(Crc, new ReadOnlySpan<byte>(_buffer, _count, 1));
                    _count++;
                    _position++;
                    return default;
                }
                return WriteSpanAsync(new[] { value }, cancellationToken);
            }

            public async ValueTask WriteSpanAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
            {
                Crc = Crc64.Update(Crc, data.Span);
                _position += data.Length;
                while (data.Length > 0)
                {
                    if (_count == _buffer.Length)
                    {
                        await _inner.WriteAsync(_buffer, 0, _count, cancellationToken).ConfigureAwait(false);
                        _count = 0;
                    }
                    var step = Math.Min(data.Length, _buffer.Length - _count);
                    data.Span.Slice(0, step).CopyTo(new Span<byte>(_buffer, _count, step));
                    _count += step;
                    data = data.Slice(step);
                }
            }

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                WriteSpanAsync(new ReadOnlyMemory<byte>(buffer, offset, count), cancellationToken).AsTask();

            public override void Write(byte[] buffer, int offset, int count) =>
                throw new NotSupportedException("RdbWriter writes asynchronously.");

            public override async Task FlushAsync(CancellationToken cancellationToken)
            {
                if (_count > 0)
                {
                    await _inner.WriteAsync(_buffer, 0, _count, cancellationToken).ConfigureAwait(false);
                    _count = 0;
                }
                await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            public override void Flush() => throw new NotSupportedException("RdbWriter flushes asynchronously.");

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            public void ReleaseBuffer()
            {
                var buffer = _buffer;
                _buffer = Array.Empty<byte>();
                if (buffer.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }
}
