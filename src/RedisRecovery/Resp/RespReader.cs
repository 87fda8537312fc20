using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// Reads RESP2/RESP3 replies from a stream through one buffer. Parsing pulls bytes as it needs them, so a reply
    /// may arrive in any number of pieces. After a reply the same buffer serves raw reads
    /// (<see cref="ReadLineAsync"/>, <see cref="ReadRawAsync"/>), which is how a replication client takes the RDB
    /// payload that follows a +FULLRESYNC without losing bytes already buffered.
    /// </summary>
    public sealed class RespReader
    {
        /// <summary>Redis refuses bulk strings larger than this by default (proto-max-bulk-len).</summary>
        public const long DefaultMaxBulkLength = 512L * 1024 * 1024;

        private const int MaxLineLength = 64 * 1024;
        private const int MaxNesting = 64;
        private const int InitialBulkAllocation = 1024 * 1024;
        private readonly Stream _stream;
        private readonly string _source;
        private byte[] _buffer;
        private int _start;
        private int _end;
        private long _consumedBefore;
        private long _replyStart;

        public RespReader(Stream stream, string source, int bufferSize = 64 * 1024, long maxBulkLength = DefaultMaxBulkLength)
        {
            _stream = stream;
            _source = source;
            _buffer = new byte[Math.Max(bufferSize, 16)];
            MaxBulkLength = maxBulkLength;
        }

        public long MaxBulkLength { get; }

        /// <summary>Bytes consumed from the stream so far; protocol errors name this offset.</summary>
        public long Position => _consumedBefore + _start;

        /// <summary>Bytes read from the stream but not yet consumed.</summary>
        public int Buffered => _end - _start;

        /// <summary>
        /// Reads one whole reply. Bytes that are not RESP raise <see cref="RedisProtocolException"/>; the stream ending
        /// before the reply does raises <see cref="RedisConnectionException"/> (ConnectionClosed). Both name the offset.
        /// </summary>
        public async ValueTask<RespValue> ReadAsync(CancellationToken cancellationToken)
        {
            _replyStart = Position;
            return await ReadValueAsync(0, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Reads one line without its line end (a bulk header such as "$EOF:..." or "$1234"). A bare LF also ends a
        /// line here: a master sends lone LFs as keep-alives while it prepares an RDB payload.
        /// </summary>
        public async ValueTask<string> ReadLineAsync(CancellationToken cancellationToken)
        {
            _replyStart = Position;
            var (offset, length) = await ReadLineSpanAsync(cancellationToken, requireCr: false).ConfigureAwait(false);
            return Encoding.UTF8.GetString(_buffer, offset, length);
        }

        /// <summary>
        /// Copies up to <paramref name="destination"/>.Length raw bytes, buffered ones first; 0 only at end of stream.
        /// </summary>
        public async ValueTask<int> ReadRawAsync(Memory<byte> destination, CancellationToken cancellationToken)
        {
            if (destination.Length == 0)
            {
                return 0;
            }
            if (Buffered == 0)
            {
                if (destination.Length >= _buffer.Length)
                {
                    var direct = await ReadStreamAsync(destination, cancellationToken).ConfigureAwait(false);
                    _consumedBefore += direct;
                    return direct;
                }
                if (!await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    return 0;
                }
            }
            var count = Math.Min(Buffered, destination.Length);
            _buffer.AsSpan(_start, count).CopyTo(destination.Span);
            _start += count;
            return count;
        }

        /// <summary>Consumes the next reply when it is "+OK" and already buffered; false leaves everything as it was.</summary>
        public bool TryTakeBufferedOk()
        {
            if (_end - _start < 5 || _buffer[_start] != (byte)'+' || _buffer[_start + 1] != (byte)'O' || _buffer[_start + 2] != (byte)'K'
                || _buffer[_start + 3] != (byte)'\r' || _buffer[_start + 4] != (byte)'\n')
            {
                return false;
            }
            _start += 5;
            return true;
        }

        private async ValueTask<RespValue> ReadValueAsync(int depth, CancellationToken cancellationToken)
        {
            if (depth > MaxNesting)
            {
                throw Malformed($"aggregate nesting deeper than {MaxNesting}");
            }
            var (offset, length) = await ReadLineSpanAsync(cancellationToken).ConfigureAwait(false);
            if (length == 0)
            {
                throw Malformed("a type byte, found an empty line");
            }
            var prefix = (char)_buffer[offset];
            switch (prefix)
            {
                case '+':
                    return RespValue.FromBytes(RespType.SimpleString, Slice(offset + 1, length - 1));
                case '-':
                    return RespValue.FromBytes(RespType.Error, Slice(offset + 1, length - 1));
                case '(':
                    return RespValue.FromBytes(RespType.BigNumber, Slice(offset + 1, length - 1));
                case ':':
                    return RespValue.FromInteger(ParseInteger(offset + 1, length - 1));
                case ',':
                    return RespValue.FromDouble(ParseDouble(offset + 1, length - 1));
                case '_':
                    if (length != 1)
                    {
                        throw Malformed("nothing after '_'");
                    }
                    return RespValue.Null;
                case '#':
                    if (length != 2 || (_buffer[offset + 1] != (byte)'t' && _buffer[offset + 1] != (byte)'f'))
                    {
                        throw Malformed("'t' or 'f' after '#'");
                    }
                    return RespValue.FromBoolean(_buffer[offset + 1] == (byte)'t');
                case '$':
                case '!':
                case '=':
                    return await ReadBulkAsync(prefix, ParseInteger(offset + 1, length - 1), cancellationToken).ConfigureAwait(false);
                case '*':
                case '~':
                case '>':
                case '%':
                case '|':
                    return await ReadAggregateAsync(prefix, ParseInteger(offset + 1, length - 1), depth, cancellationToken).ConfigureAwait(false);
                default:
                    throw Malformed($"a RESP type byte, found 0x{(byte)prefix:X2}");
            }
        }

        private async ValueTask<RespValue> ReadBulkAsync(char prefix, long length, CancellationToken cancellationToken)
        {
            if (length == -1 && prefix == '$')
            {
                return RespValue.Null;
            }
            if (length < 0 || length > MaxBulkLength)
            {
                throw Malformed($"a bulk length between 0 and {MaxBulkLength}, found {length}");
            }
            // The length is only a claim until the bytes arrive: grow towards it instead of trusting it up front.
            var payload = new byte[Math.Min(length, InitialBulkAllocation)];
            var filled = 0;
            while (filled < length)
            {
                if (filled == payload.Length)
                {
                    Array.Resize(ref payload, (int)Math.Min(length, (long)payload.Length * 2));
                }
                var read = await ReadRawAsync(payload.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw Truncated();
                }
                filled += read;
            }
            await ExpectCrLfAsync(cancellationToken).ConfigureAwait(false);
            switch (prefix)
            {
                case '!':
                    return RespValue.FromBytes(RespType.Error, payload);
                case '=':
                    if (payload.Length < 4 || payload[3] != (byte)':')
                    {
                        throw Malformed("a verbatim string starting with a three-letter format and ':'");
                    }
                    return RespValue.Verbatim(Encoding.ASCII.GetString(payload, 0, 3), payload.AsSpan(4).ToArray());
                default:
                    return RespValue.Bulk(payload);
            }
        }

        private async ValueTask<RespValue> ReadAggregateAsync(char prefix, long count, int depth, CancellationToken cancellationToken)
        {
            if (count == -1 && prefix == '*')
            {
                return RespValue.Null;
            }
            var isPairs = prefix is '%' or '|';
            if (count < 0 || count > int.MaxValue / 2)
            {
                throw Malformed($"an element count of 0 or more, found {count}");
            }
            var total = isPairs ? count * 2 : count;
            // The count is only a claim until the elements arrive: grow the list as they do.
            var items = new List<RespValue>((int)Math.Min(total, 1024));
            for (long i = 0; i < total; i++)
            {
                items.Add(await ReadValueAsync(depth + 1, cancellationToken).ConfigureAwait(false));
            }
            var type = prefix switch
            {
                '*' => RespType.Array,
                '~' => RespType.Set,
                '>' => RespType.Push,
                '%' => RespType.Map,
                _ => RespType.Attribute,
            };
            if (type == RespType.Attribute)
            {
                // Attributes annotate the reply that follows; the client has no use for them, the reply is what counts.
                return await ReadValueAsync(depth, cancellationToken).ConfigureAwait(false);
            }
            return RespValue.Aggregate(type, items);
        }

        /// <summary>Finds the next CR LF, reading more as needed; returns the line's place in the buffer and consumes it.</summary>
        private async ValueTask<(int Offset, int Length)> ReadLineSpanAsync(CancellationToken cancellationToken, bool requireCr = true)
        {
            var scanned = 0;
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', _start + scanned, _end - _start - scanned);
                if (newline >= 0)
                {
                    var hasCr = newline > _start && _buffer[newline - 1] == (byte)'\r';
                    if (!hasCr && requireCr)
                    {
                        throw Malformed("CR LF at the end of a line, found a bare LF");
                    }
                    var offset = _start;
                    _start = newline + 1;
                    return (offset, newline - (hasCr ? 1 : 0) - offset);
                }
                scanned = _end - _start;
                if (scanned >= MaxLineLength)
                {
                    throw Malformed($"a line shorter than {MaxLineLength} bytes");
                }
                if (!await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw Truncated();
                }
            }
        }

        private async ValueTask ExpectCrLfAsync(CancellationToken cancellationToken)
        {
            while (Buffered < 2)
            {
                if (!await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw Truncated();
                }
            }
            if (_buffer[_start] != (byte)'\r' || _buffer[_start + 1] != (byte)'\n')
            {
                throw Malformed("CR LF after a bulk payload");
            }
            _start += 2;
        }

        /// <summary>Reads more bytes into the buffer, keeping the unconsumed ones; false at end of stream.</summary>
        private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _consumedBefore += _start;
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            var read = await ReadStreamAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            _end += read;
            return read > 0;
        }

        private async ValueTask<int> ReadStreamAsync(Memory<byte> destination, CancellationToken cancellationToken)
        {
#if NET8_0_OR_GREATER
            return await _stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
#else
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(destination, out var segment))
            {
                return await _stream.ReadAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken).ConfigureAwait(false);
            }
            throw new ArgumentException("The destination must be array-backed.", nameof(destination));
#endif
        }

        private byte[] Slice(int offset, int length) => _buffer.AsSpan(offset, length).ToArray();

        private long ParseInteger(int offset, int length)
        {
            var text = Encoding.ASCII.GetString(_buffer, offset, length);
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                throw Malformed("a decimal integer");
            }
            return value;
        }

        private double ParseDouble(int offset, int length)
        {
            var text = Encoding.ASCII.GetString(_buffer, offset, length);
            switch (text)
            {
                case "inf":
                    return double.PositiveInfinity;
                case "-inf":
                    return double.NegativeInfinity;
                case "nan":
                    return double.NaN;
            }
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw Malformed("a floating-point number");
            }
            return value;
        }

        private RedisProtocolException Malformed(string expectation) =>
            new(_source, Position, $"Protocol error from {_source} at byte {Position}: expected {expectation}.");

        private RedisConnectionException Truncated() =>
            new(RedisErrorIds.ConnectionClosed, FailureKind.ConnectionFailed,
                $"{_source} closed the connection {(_replyStart == Position + Buffered ? "before" : "in the middle of")} a reply (at byte {Position + Buffered}).")
            {
                Target = _source,
            };
    }
}
