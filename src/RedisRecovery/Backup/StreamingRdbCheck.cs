using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// Parses an RDB completely while it streams into the backup file, on another thread, so verifying a backup costs
    /// no second read and no time after the transfer. The parser sees exactly the bytes written and hashed, handed
    /// over through a few pooled chunks: memory stays bounded, and a parser that stopped early (a damaged stream)
    /// never holds the writer up.
    /// </summary>
    internal sealed class StreamingRdbCheck : IAsyncDisposable
    {
        private const int MaxChunksInFlight = 8;
        private readonly ChunkPipe _pipe = new(MaxChunksInFlight);
        private readonly Task<RdbFileCheck> _check;

        public StreamingRdbCheck(string sourceName, CancellationToken cancellationToken)
        {
            _check = Task.Run(async () =>
            {
                try
                {
                    using var reader = new ChunkPipeReadStream(_pipe);
                    return await RdbFileChecker.CheckAsync(reader, sourceName, options: null, progress: null, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _pipe.Abandon();
                }
            });
        }

        /// <summary>A stream that writes to <paramref name="destination"/> and hands the same bytes to the parser.</summary>
        public Stream Tee(Stream destination) => new TeeWriteStream(destination, _pipe);

        /// <summary>Ends the input and returns what the parse found.</summary>
        public Task<RdbFileCheck> CompleteAsync()
        {
            _pipe.Complete();
            return _check;
        }

        public async ValueTask DisposeAsync()
        {
            _pipe.Complete();
            try
            {
                await _check.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The backup was cancelled; the parse with it.
            }
        }

        private sealed class ChunkPipe
        {
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
                if (_abandoned || count == 0)
                {
                    return;
                }
                await _free.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (_abandoned)
                {
                    return;
                }
                var chunk = ArrayPool<byte>.Shared.Rent(count);
                Buffer.BlockCopy(data, offset, chunk, 0, count);
                _chunks.Enqueue((chunk, count));
                _filled.Release();
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

        private sealed class ChunkPipeReadStream : ForwardOnlyStream
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

        private sealed class TeeWriteStream : ForwardOnlyStream
        {
            private readonly Stream _destination;
            private readonly ChunkPipe _pipe;

            public TeeWriteStream(Stream destination, ChunkPipe pipe)
            {
                _destination = destination;
                _pipe = pipe;
            }

            public override bool CanRead => false;

            public override bool CanWrite => true;

            public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            {
                await _destination.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                await _pipe.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            }

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write asynchronously.");

            public override Task FlushAsync(CancellationToken cancellationToken) => _destination.FlushAsync(cancellationToken);

            public override void Flush() => _destination.Flush();

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
