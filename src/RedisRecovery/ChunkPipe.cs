using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery
{
    /// <summary>
    /// Hands bytes from a writer to a reader on another task through a few pooled chunks: memory stays bounded
    /// whatever passes through, and a reader that stopped early (<see cref="Abandon"/>) never holds the writer up.
    /// </summary>
    internal sealed class ChunkPipe
    {
        private const int MaxChunkBytes = 128 * 1024;
        private readonly ConcurrentQueue<(byte[]? Buffer, int Length)> _chunks = new();
        private readonly SemaphoreSlim _free;
        private readonly SemaphoreSlim _filled = new(0);
        private readonly int _capacity;
        private int _completed;
        private volatile bool _abandoned;

        public ChunkPipe(int capacity)
        {
            _capacity = capacity;
            _free = new SemaphoreSlim(capacity);
        }

        public async Task WriteAsync(byte[] data, int offset, int count, CancellationToken cancellationToken)
        {
            // Large writes are cut so that what the pipe holds stays at capacity x MaxChunkBytes, whatever buffer size
            // the writer reads with.
            while (count > 0 && !_abandoned)
            {
                await _free.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (_abandoned)
                {
                    return;
                }
                var length = Math.Min(count, MaxChunkBytes);
                var chunk = ArrayPool<byte>.Shared.Rent(length);
                Buffer.BlockCopy(data, offset, chunk, 0, length);
                _chunks.Enqueue((chunk, length));
                _filled.Release();
                offset += length;
                count -= length;
            }
        }

        public void Complete()
        {
            if (Interlocked.Exchange(ref _completed, 1) == 0)
            {
                _chunks.Enqueue((null, 0));
                _filled.Release();
            }
        }

        /// <summary>The parser stopped: later writes are dropped and a waiting writer is released.</summary>
        public void Abandon()
        {
            _abandoned = true;
            _free.Release(_capacity);
            while (_chunks.TryDequeue(out var chunk))
            {
                if (chunk.Buffer != null)
                {
                    ArrayPool<byte>.Shared.Return(chunk.Buffer);
                }
            }
        }

        /// <summary>The next chunk, or a null buffer at the end of the input.</summary>
        public async Task<(byte[]? Buffer, int Length)> TakeAsync(CancellationToken cancellationToken)
        {
            await _filled.WaitAsync(cancellationToken).ConfigureAwait(false);
            _chunks.TryDequeue(out var chunk);
            return chunk;
        }

        public void Recycle(byte[] buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _free.Release();
        }
    }

    /// <summary>Reads what was written into a <see cref="ChunkPipe"/>, up to its end.</summary>
    internal sealed class ChunkPipeReadStream : ForwardOnlyStream
    {
        private readonly ChunkPipe _pipe;
        private byte[]? _chunk;
        private int _length;
        private int _position;
        private bool _ended;

        public ChunkPipeReadStream(ChunkPipe pipe) => _pipe = pipe;

        public override bool CanRead => true;

        public override bool CanWrite => false;

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadCoreAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

#if NET8_0_OR_GREATER
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ReadCoreAsync(buffer, cancellationToken);
#endif

        private async ValueTask<int> ReadCoreAsync(Memory<byte> destination, CancellationToken cancellationToken)
        {
            while (!_ended && (_chunk == null || _position == _length))
            {
                if (_chunk != null)
                {
                    _pipe.Recycle(_chunk);
                    _chunk = null;
                }
                var (next, length) = await _pipe.TakeAsync(cancellationToken).ConfigureAwait(false);
                _ended = next == null;
                _chunk = next;
                _length = length;
                _position = 0;
            }
            if (_ended)
            {
                return 0;
            }
            var copied = Math.Min(destination.Length, _length - _position);
            _chunk.AsSpan(_position, copied).CopyTo(destination.Span);
            _position += copied;
            return copied;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read asynchronously.");

        public override void Flush()
        {
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Writes into a <see cref="ChunkPipe"/>, after writing the same bytes to <paramref name="alsoTo"/> when given.</summary>
    internal sealed class ChunkPipeWriteStream : ForwardOnlyStream
    {
        private readonly ChunkPipe _pipe;
        private readonly Stream? _alsoTo;

        public ChunkPipeWriteStream(ChunkPipe pipe, Stream? alsoTo = null)
        {
            _pipe = pipe;
            _alsoTo = alsoTo;
        }

        public override bool CanRead => false;

        public override bool CanWrite => true;

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_alsoTo != null)
            {
                await _alsoTo.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            }
            await _pipe.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write asynchronously.");

        public override Task FlushAsync(CancellationToken cancellationToken) => _alsoTo?.FlushAsync(cancellationToken) ?? Task.CompletedTask;

        public override void Flush() => _alsoTo?.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
