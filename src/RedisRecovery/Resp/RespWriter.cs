using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// Encodes commands as RESP arrays of bulk strings into one buffer, so a batch goes out in as few writes as
    /// possible; an argument too large for the buffer is written straight through rather than copied.
    /// </summary>
    internal sealed class RespWriter
    {
        private readonly Stream _stream;
        private readonly byte[] _buffer;
        private int _length;

        public RespWriter(Stream stream, int bufferSize = 64 * 1024)
        {
            _stream = stream;
            _buffer = new byte[bufferSize];
        }

        public async ValueTask WriteAsync(RedisCommand command, CancellationToken cancellationToken)
        {
            await WriteHeaderAsync('*', command.Arguments.Count + 1, cancellationToken).ConfigureAwait(false);
            await WriteBulkAsync(Encoding.UTF8.GetBytes(command.Name), cancellationToken).ConfigureAwait(false);
            foreach (var argument in command.Arguments)
            {
                await WriteBulkAsync(argument.Bytes, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Encodes <paramref name="command"/> into the buffer when all of it fits there (no I/O, so it needs no timeout
        /// guard); false leaves the buffer unchanged. Bulk loads send most commands this way.
        /// </summary>
        public bool TryWriteBuffered(RedisCommand command, long encodedLength)
        {
            if (_length + encodedLength > _buffer.Length)
            {
                return false;
            }
            var span = _buffer.AsSpan(_length);
            var at = Header(span, (byte)'*', command.Arguments.Count + 1);
            at += BulkName(span.Slice(at), command.Name);
            foreach (var argument in command.Arguments)
            {
                var bytes = argument.Bytes.Span;
                at += Header(span.Slice(at), (byte)'$', bytes.Length);
                bytes.CopyTo(span.Slice(at));
                at += bytes.Length;
                span[at++] = (byte)'\r';
                span[at++] = (byte)'\n';
            }
            _length += at;
            return true;
        }

        /// <summary>Copies already-encoded RESP into the buffer when it fits; false leaves the buffer unchanged.</summary>
        public bool TryWriteEncodedBuffered(ReadOnlySpan<byte> encoded)
        {
            if (_length + encoded.Length > _buffer.Length)
            {
                return false;
            }
            encoded.CopyTo(_buffer.AsSpan(_length));
            _length += encoded.Length;
            return true;
        }

        private static int Header(Span<byte> span, byte prefix, long count)
        {
            span[0] = prefix;
            System.Buffers.Text.Utf8Formatter.TryFormat(count, span.Slice(1), out var digits);
            span[1 + digits] = (byte)'\r';
            span[2 + digits] = (byte)'\n';
            return digits + 3;
        }

        private static int BulkName(Span<byte> span, string name)
        {
            var length = Encoding.UTF8.GetByteCount(name);
            var at = Header(span, (byte)'$', length);
#if NET8_0_OR_GREATER
            at += Encoding.UTF8.GetBytes(name, span.Slice(at));
#else
            var bytes = Encoding.UTF8.GetBytes(name);
            bytes.CopyTo(span.Slice(at));
            at += bytes.Length;
#endif
            span[at++] = (byte)'\r';
            span[at++] = (byte)'\n';
            return at;
        }

        /// <summary>Writes bytes that are already a RESP command (an AOF's commands are stored that way).</summary>
        public async ValueTask WriteEncodedAsync(ReadOnlyMemory<byte> encoded, CancellationToken cancellationToken)
        {
            if (encoded.Length > _buffer.Length / 2)
            {
                await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
                await WriteStreamAsync(encoded, cancellationToken).ConfigureAwait(false);
                return;
            }
            await EnsureRoomAsync(encoded.Length, cancellationToken).ConfigureAwait(false);
            encoded.Span.CopyTo(_buffer.AsSpan(_length));
            _length += encoded.Length;
        }

        /// <summary>Sends everything buffered.</summary>
        public async ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        private async ValueTask WriteBulkAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            await WriteHeaderAsync('$', payload.Length, cancellationToken).ConfigureAwait(false);
            if (payload.Length > _buffer.Length / 2)
            {
                await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
                await WriteStreamAsync(payload, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await EnsureRoomAsync(payload.Length, cancellationToken).ConfigureAwait(false);
                payload.Span.CopyTo(_buffer.AsSpan(_length));
                _length += payload.Length;
            }
            await EnsureRoomAsync(2, cancellationToken).ConfigureAwait(false);
            _buffer[_length++] = (byte)'\r';
            _buffer[_length++] = (byte)'\n';
        }

        private async ValueTask WriteHeaderAsync(char prefix, long count, CancellationToken cancellationToken)
        {
            var digits = count.ToString(CultureInfo.InvariantCulture);
            await EnsureRoomAsync(digits.Length + 3, cancellationToken).ConfigureAwait(false);
            _buffer[_length++] = (byte)prefix;
            _length += Encoding.ASCII.GetBytes(digits, 0, digits.Length, _buffer, _length);
            _buffer[_length++] = (byte)'\r';
            _buffer[_length++] = (byte)'\n';
        }

        private async ValueTask EnsureRoomAsync(int needed, CancellationToken cancellationToken)
        {
            if (_length + needed > _buffer.Length)
            {
                await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        private async ValueTask FlushBufferAsync(CancellationToken cancellationToken)
        {
            if (_length > 0)
            {
                var length = _length;
                _length = 0;
                await WriteStreamAsync(_buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            }
        }

        private async ValueTask WriteStreamAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
#if NET8_0_OR_GREATER
            await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
#else
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes, out var segment))
            {
                await _stream.WriteAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var copy = bytes.ToArray();
                await _stream.WriteAsync(copy, 0, copy.Length, cancellationToken).ConfigureAwait(false);
            }
#endif
        }
    }
}
