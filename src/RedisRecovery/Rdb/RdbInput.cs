using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// Where the bytes a reader consumes also have to go: the running CRC and, while a value is being read, the
    /// capture that keeps its serialized bytes. Called with consumed bytes only, in order, before they leave the buffer.
    /// </summary>
    internal interface IConsumedBytesSink
    {
        ValueTask WriteAsync(ReadOnlyMemory<byte> consumed, CancellationToken cancellationToken);
    }

    /// <summary>
    /// A forward-only reader over a Stream with one pooled buffer. Small reads are synchronous once <see cref="EnsureAsync"/>
    /// has made the bytes available; the buffer is refilled only when it runs dry, and every consumed byte passes the
    /// CRC and the optional capture exactly once. Offsets count from the start of the RDB plus a base offset.
    /// </summary>
    internal sealed class RdbInput : IDisposable
    {
        private readonly Stream _stream;
        private readonly long? _knownEnd;
        private byte[] _buffer;
        private int _position;
        private int _end;
        private long _bufferStart;
        private bool _streamEnded;
        private bool _crcEnabled;
        private ulong _crc;
        private int _crcFrom;
        private IConsumedBytesSink? _capture;
        private int _captureFrom;

        public RdbInput(Stream stream, string sourceName, long baseOffset, int bufferSize)
        {
            _stream = stream;
            SourceName = sourceName;
            _bufferStart = baseOffset;
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bufferSize, 64));
            if (stream.CanSeek)
            {
                try
                {
                    _knownEnd = baseOffset + stream.Length - stream.Position;
                }
                catch (NotSupportedException)
                {
                    _knownEnd = null;
                }
            }
        }

        public string SourceName { get; }

        /// <summary>The key of the last entry read completely, for error messages (kept as bytes: decoding every key
        /// to text would cost more than reading it).</summary>
        public byte[]? LastGoodKeyBytes { get; set; }

        public string? LastGoodKey => LastGoodKeyBytes is null ? null : System.Text.Encoding.UTF8.GetString(LastGoodKeyBytes);

        public long Position => _bufferStart + _position;

        public int Available => _end - _position;

        public long? KnownEnd => _knownEnd;

        public ReadOnlySpan<byte> Buffered => new ReadOnlySpan<byte>(_buffer, _position, _end - _position);

        /// <summary>Bytes read ahead from the stream beyond <see cref="Position"/> (for a caller that continues after an
        /// embedded RDB on a stream it cannot seek).</summary>
        public ReadOnlyMemory<byte> ReadAhead => new ReadOnlyMemory<byte>(_buffer, _position, _end - _position);

        public void StartCrc()
        {
            _crcEnabled = true;
            _crc = 0;
            _crcFrom = _position;
        }

        /// <summary>The CRC over every byte consumed since <see cref="StartCrc"/>.</summary>
        public ulong CurrentCrc()
        {
            _crc = Crc64.Update(_crc, new ReadOnlySpan<byte>(_buffer, _crcFrom, _position - _crcFrom));
            _crcFrom = _position;
            return _crc;
        }

        public void StopCrc() => _crcEnabled = false;

        public void BeginCapture(IConsumedBytesSink sink)
        {
            _capture = sink;
            _captureFrom = _position;
        }

        public async ValueTask EndCaptureAsync(CancellationToken cancellationToken)
        {
            var sink = _capture!;
            _capture = null;
            if (_position > _captureFrom)
            {
                await sink.WriteAsync(new ReadOnlyMemory<byte>(_buffer, _captureFrom, _position - _captureFrom), cancellationToken).ConfigureAwait(false);
            }
        }

        public void AbandonCapture() => _capture = null;

        /// <summary>Makes at least <paramref name="count"/> bytes available, or fails as truncated data.</summary>
        public ValueTask EnsureAsync(int count, string expectation, CancellationToken cancellationToken) =>
            _end - _position >= count ? default : FillAsync(count, expectation, cancellationToken);

        /// <summary>Makes up to <paramref name="count"/> bytes available; returns how many are (fewer only at the end).</summary>
        public async ValueTask<int> TryEnsureAsync(int count, CancellationToken cancellationToken)
        {
            if (_end - _position < count && !_streamEnded)
            {
                await RefillAsync(count, cancellationToken).ConfigureAwait(false);
            }
            return Math.Min(count, _end - _position);
        }

        private async ValueTask FillAsync(int count, string expectation, CancellationToken cancellationToken)
        {
            await RefillAsync(count, cancellationToken).ConfigureAwait(false);
            if (_end - _position < count)
            {
                throw Corrupt("unexpected end of data: " + expectation, Position);
            }
        }

        private async ValueTask RefillAsync(int count, CancellationToken cancellationToken)
        {
            if (_crcEnabled && _position > _crcFrom)
            {
                _crc = Crc64.Update(_crc, new ReadOnlySpan<byte>(_buffer, _crcFrom, _position - _crcFrom));
            }
            if (_capture != null && _position > _captureFrom)
            {
                await _capture.WriteAsync(new ReadOnlyMemory<byte>(_buffer, _captureFrom, _position - _captureFrom), cancellationToken).ConfigureAwait(false);
            }
            var remaining = _end - _position;
            if (count > _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(count);
                Buffer.BlockCopy(_buffer, _position, larger, 0, remaining);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
            else if (remaining > 0)
            {
                Buffer.BlockCopy(_buffer, _position, _buffer, 0, remaining);
            }
            _bufferStart += _position;
            _position = 0;
            _end = remaining;
            _crcFrom = 0;
            _captureFrom = 0;
            while (_end < count && !_streamEnded)
            {
                var read = await _stream.ReadAsync(_buffer, _end, _buffer.Length - _end, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    _streamEnded = true;
                }
                _end += read;
            }
        }

        public byte ReadByte() => _buffer[_position++];

        public byte PeekByte() => _buffer[_position];

        public ushort ReadUInt16LittleEndian()
        {
            var value = BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(_buffer, _position, 2));
            _position += 2;
            return value;
        }

        public uint ReadUInt32LittleEndian()
        {
            var value = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_buffer, _position, 4));
            _position += 4;
            return value;
        }

        public ulong ReadUInt64LittleEndian()
        {
            var value = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_buffer, _position, 8));
            _position += 8;
            return value;
        }

        public ReadOnlySpan<byte> Take(int count)
        {
            var span = new ReadOnlySpan<byte>(_buffer, _position, count);
            _position += count;
            return span;
        }

        /// <summary>Consumes <paramref name="count"/> bytes without keeping them (they still reach the CRC and capture).</summary>
        public ValueTask SkipAsync(long count, string expectation, CancellationToken cancellationToken) =>
            ReadInPartsAsync(count, expectation, null, cancellationToken);

        /// <summary>Consumes <paramref name="count"/> bytes, handing each buffered piece to <paramref name="part"/>
        /// (valid only during the call).</summary>
        public async ValueTask ReadInPartsAsync(long count, string expectation, Action<ReadOnlyMemory<byte>>? part, CancellationToken cancellationToken)
        {
            CheckRemaining(count, expectation);
            while (count > 0)
            {
                if (_position == _end)
                {
                    await FillAsync(1, expectation, cancellationToken).ConfigureAwait(false);
                }
                var step = (int)Math.Min(count, _end - _position);
                part?.Invoke(new ReadOnlyMemory<byte>(_buffer, _position, step));
                _position += step;
                count -= step;
            }
        }

        /// <summary>Copies the next <paramref name="destination"/>.Length bytes into it.</summary>
        public async ValueTask ReadExactlyAsync(Memory<byte> destination, string expectation, CancellationToken cancellationToken)
        {
            var done = 0;
            while (done < destination.Length)
            {
                if (_position == _end)
                {
                    await FillAsync(1, expectation, cancellationToken).ConfigureAwait(false);
                }
                var step = Math.Min(destination.Length - done, _end - _position);
                new ReadOnlySpan<byte>(_buffer, _position, step).CopyTo(destination.Span.Slice(done));
                _position += step;
                done += step;
            }
        }

        /// <summary>Fails before allocating when a length prefix asks for more than the stream can still hold.</summary>
        public void CheckRemaining(long count, string expectation)
        {
            if (count < 0 || (_knownEnd is long end && count > end - Position))
            {
                throw Corrupt($"{expectation}: length {count} exceeds the {(_knownEnd - Position)?.ToString() ?? "available"} bytes that remain", Position);
            }
        }

        public CorruptDataException Corrupt(string expectation, long offset) =>
            new CorruptDataException(SourceName, offset, expectation, LastGoodKey);

        public void Dispose()
        {
            var buffer = _buffer;
            _buffer = Array.Empty<byte>();
            _position = _end = 0;
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
