using System;
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
        public Stream Tee(Stream destination) => new ChunkPipeWriteStream(_pipe, destination);

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
    }
}
