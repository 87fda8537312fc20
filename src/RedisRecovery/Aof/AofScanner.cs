using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Aof
{
    internal enum AofItemKind
    {
        /// <summary>A complete RESP command (array of bulk strings).</summary>
        Command,

        /// <summary>A complete '#' annotation line, e.g. "#TS:1700000000".</summary>
        Annotation,

        /// <summary>Clean end of the stream at an item boundary.</summary>
        End,

        /// <summary>The stream ended inside an item whose bytes so far were all well formed.</summary>
        Truncated,

        /// <summary>A byte that cannot be there.</summary>
        Corrupt,
    }

    /// <summary>
    /// Splits a RESP stream (the tail of an AOF) into commands and annotation lines with a pooled buffer and
    /// constant memory. The parse is a resumable state machine, so any split of the input into reads gives the same
    /// items; bulk arguments are skipped as they stream past (only the first argument's leading bytes are kept, to
    /// name the command), so an argument of any size costs no memory.
    /// </summary>
    internal sealed class AofScanner : IDisposable
    {
        internal const int DefaultBufferSize = 1 << 20;
        private const int MaxHeaderLine = 32;
        private const int MaxAnnotationLine = 1024;
        private const int MaxDigits = 18;
        private const int NameCapacity = 32;

        private readonly Stream _stream;
        private readonly string _file;
        private readonly byte[] _name = new byte[NameCapacity];
        private byte[] _buffer;
        private int _position;
        private int _end;
        private long _bufferOffset;
        private bool _endOfStream;

        private Phase _phase = Phase.ItemStart;
        private long _argumentsLeft;
        private long _bulkLeft;
        private int _nameLength;
        private bool _nameTooLong;

        public AofScanner(Stream stream, string file, long startOffset, int bufferSize = DefaultBufferSize)
        {
            _stream = stream;
            _file = file;
            _bufferOffset = startOffset;
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bufferSize, 2 * MaxAnnotationLine));
        }

        private enum Phase
        {
            ItemStart,
            Annotation,
            ArrayHeader,
            BulkHeader,
            BulkBody,
            BulkCr,
            BulkLf,
        }

        public string File => _file;

        /// <summary>File offset of the first byte of the last item (or of the damaged item).</summary>
        public long ItemOffset { get; private set; }

        /// <summary>File offset just after the last complete item.</summary>
        public long ItemEnd { get; private set; }

        public long ArgumentCount { get; private set; }

        /// <summary>The first argument of the last command (its leading bytes when it is long).</summary>
        public ReadOnlySpan<byte> Name => _name.AsSpan(0, _nameLength);

        /// <summary>True when the first argument was longer than the captured bytes (not a command name).</summary>
        public bool NameTooLong => _nameTooLong;

        /// <summary>The unix time of the last annotation when it was a well-formed "#TS:" one, else null.</summary>
        public long? AnnotationTimestamp { get; private set; }

        /// <summary>Where the damage was found (Corrupt: the offending byte; Truncated: the end of the stream).</summary>
        public long ErrorOffset { get; private set; }

        /// <summary>What was expected at <see cref="ErrorOffset"/>; never contains data bytes.</summary>
        public string Error { get; private set; } = "";

        /// <summary>Absolute offset of the next unread byte.</summary>
        private long Here => _bufferOffset + _position;

        public async ValueTask<AofItemKind> NextAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var step = Step();
                if (step != null)
                {
                    return step.Value;
                }
                if (_endOfStream)
                {
                    return EndOfStreamInPhase();
                }
                await FillAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public void Dispose()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = Array.Empty<byte>();
            }
        }

        /// <summary>Advances through the buffered bytes; null when more input is needed.</summary>
        private AofItemKind? Step()
        {
            while (true)
            {
                switch (_phase)
                {
                    case Phase.ItemStart:
                        if (_position == _end)
                        {
                            return null;
                        }
                        ItemOffset = Here;
                        switch (_buffer[_position])
                        {
                            case (byte)'#':
                                _phase = Phase.Annotation;
                                break;
                            case (byte)'*':
                                _phase = Phase.ArrayHeader;
                                break;
                            default:
                                return Corrupt(Here, "expected '*' (a command) or '#' (an annotation)");
                        }
                        break;

                    case Phase.Annotation:
                    {
                        var available = _buffer.AsSpan(_position, Math.Min(_end - _position, MaxAnnotationLine));
                        var newline = available.IndexOf((byte)'\n');
                        if (newline < 0)
                        {
                            return available.Length >= MaxAnnotationLine
                                ? Corrupt(Here + MaxAnnotationLine, $"expected the annotation line to end within {MaxAnnotationLine} bytes")
                                : null;
                        }
                        // Redis reads an annotation up to '\n' and skips it whatever it says, so only a "#TS:" with
                        // a number means something; any other annotation is passed over, as the server does.
                        var line = available.Slice(0, newline);
                        AnnotationTimestamp = ParseTimestamp(line.Length > 0 && line[line.Length - 1] == (byte)'\r' ? line.Slice(0, line.Length - 1) : line);
                        _position += newline + 1;
                        ItemEnd = Here;
                        _phase = Phase.ItemStart;
                        return AofItemKind.Annotation;
                    }

                    case Phase.ArrayHeader:
                    {
                        var header = ReadHeader((byte)'*', "command");
                        if (header < 0)
                        {
                            return header == NeedMore ? null : AofItemKind.Corrupt;
                        }
                        if (header == 0)
                        {
                            return Corrupt(ItemOffset + 1, "expected a command with at least one argument");
                        }
                        ArgumentCount = header;
                        _argumentsLeft = header;
                        _nameLength = 0;
                        _nameTooLong = false;
                        _phase = Phase.BulkHeader;
                        break;
                    }

                    case Phase.BulkHeader:
                    {
                        var header = ReadHeader((byte)'$', "bulk string");
                        if (header < 0)
                        {
                            return header == NeedMore ? null : AofItemKind.Corrupt;
                        }
                        _bulkLeft = header;
                        if (_argumentsLeft == ArgumentCount)
                        {
                            _nameTooLong = header > NameCapacity;
                        }
                        _phase = Phase.BulkBody;
                        break;
                    }

                    case Phase.BulkBody:
                    {
                        var take = (int)Math.Min(_bulkLeft, _end - _position);
                        if (_argumentsLeft == ArgumentCount && _nameLength < NameCapacity)
                        {
                            var keep = Math.Min(take, NameCapacity - _nameLength);
                            Buffer.BlockCopy(_buffer, _position, _name, _nameLength, keep);
                            _nameLength += keep;
                        }
                        _position += take;
                        _bulkLeft -= take;
                        if (_bulkLeft > 0)
                        {
                            return null;
                        }
                        _phase = Phase.BulkCr;
                        break;
                    }

                    case Phase.BulkCr:
                        if (_position == _end)
                        {
                            return null;
                        }
                        if (_buffer[_position] != (byte)'\r')
                        {
                            return Corrupt(Here, "expected \\r\\n after the bulk string");
                        }
                        _position++;
                        _phase = Phase.BulkLf;
                        break;

                    case Phase.BulkLf:
                        if (_position == _end)
                        {
                            return null;
                        }
                        if (_buffer[_position] != (byte)'\n')
                        {
                            return Corrupt(Here, "expected \\r\\n after the bulk string");
                        }
                        _position++;
                        if (--_argumentsLeft > 0)
                        {
                            _phase = Phase.BulkHeader;
                            break;
                        }
                        ItemEnd = Here;
                        _phase = Phase.ItemStart;
                        return AofItemKind.Command;
                }
            }
        }

        private const long NeedMore = -1;
        private const long Invalid = -2;

        /// <summary>
        /// Parses "&lt;prefix&gt;&lt;digits&gt;\r\n" at the current position, byte by byte, so a line cut by the end
        /// of the buffer is told apart from a malformed one. Returns the number, <see cref="NeedMore"/>, or
        /// <see cref="Invalid"/> (after recording the error).
        /// </summary>
        private long ReadHeader(byte prefix, string what)
        {
            var available = _end - _position;
            var line = _buffer.AsSpan(_position, Math.Min(available, MaxHeaderLine));
            if (line.Length == 0)
            {
                return NeedMore;
            }
            if (line[0] != prefix)
            {
                Corrupt(Here, $"expected '{(char)prefix}' ({what} header)");
                return Invalid;
            }
            long value = 0;
            var i = 1;
            for (; i < line.Length; i++)
            {
                var b = line[i];
                if (b < (byte)'0' || b > (byte)'9')
                {
                    break;
                }
                if (i > MaxDigits)
                {
                    Corrupt(Here + i, $"expected a {what} length of at most {MaxDigits} digits");
                    return Invalid;
                }
                value = value * 10 + (b - (byte)'0');
            }
            if (i == line.Length)
            {
                return NeedMore;
            }
            if (i == 1)
            {
                Corrupt(Here + i, $"expected the decimal length of the {what}");
                return Invalid;
            }
            if (line[i] != (byte)'\r')
            {
                Corrupt(Here + i, $"expected \\r\\n after the {what} length");
                return Invalid;
            }
            if (i + 1 == line.Length)
            {
                return NeedMore;
            }
            if (line[i + 1] != (byte)'\n')
            {
                Corrupt(Here + i + 1, $"expected \\r\\n after the {what} length");
                return Invalid;
            }
            _position += i + 2;
            return value;
        }

        private static long? ParseTimestamp(ReadOnlySpan<byte> line)
        {
            ReadOnlySpan<byte> timestampPrefix = new[] { (byte)'#', (byte)'T', (byte)'S', (byte)':' };
            if (!line.StartsWith(timestampPrefix))
            {
                return null;
            }
            var digits = line.Slice(timestampPrefix.Length);
            if (digits.Length == 0 || digits.Length > MaxDigits)
            {
                return null;
            }
            long value = 0;
            foreach (var digit in digits)
            {
                if (digit < (byte)'0' || digit > (byte)'9')
                {
                    return null;
                }
                value = value * 10 + (digit - (byte)'0');
            }
            return value;
        }

        private AofItemKind EndOfStreamInPhase()
        {
            ErrorOffset = Here + (_end - _position);
            switch (_phase)
            {
                case Phase.ItemStart:
                    return AofItemKind.End;
                case Phase.Annotation:
                    Error = "the annotation line is incomplete (the file ends inside it)";
                    return AofItemKind.Truncated;
                case Phase.ArrayHeader:
                    Error = "the last command is incomplete (the file ends inside its header)";
                    return AofItemKind.Truncated;
                case Phase.BulkBody:
                    Error = $"the last command is incomplete (the file ends {_bulkLeft} bytes before the end of an argument)";
                    return AofItemKind.Truncated;
                default:
                    Error = $"the last command is incomplete (the file ends with {_argumentsLeft} of its {ArgumentCount} arguments unread)";
                    return AofItemKind.Truncated;
            }
        }

        private AofItemKind Corrupt(long offset, string expectation)
        {
            ErrorOffset = offset;
            Error = expectation;
            return AofItemKind.Corrupt;
        }

        private async ValueTask FillAsync(CancellationToken cancellationToken)
        {
            if (_position > 0)
            {
                var kept = _end - _position;
                Buffer.BlockCopy(_buffer, _position, _buffer, 0, kept);
                _bufferOffset += _position;
                _position = 0;
                _end = kept;
            }
            var read = await _stream.ReadAsync(_buffer, _end, _buffer.Length - _end, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _endOfStream = true;
            }
            _end += read;
        }
    }
}
