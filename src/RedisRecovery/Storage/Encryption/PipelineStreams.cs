using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage.Encryption
{
    /// <summary>
    /// Base of the internal read layers. Each layer implements one method that reads either synchronously or
    /// asynchronously (useAsync), so Read and ReadAsync share one implementation; on the synchronous path every await
    /// is on an already completed ValueTask, so blocking on it never waits for anything.
    /// </summary>
    internal abstract class PipelineReadStream : ForwardOnlyStream
    {
        public override bool CanRead => true;

        public override bool CanWrite => false;

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadCoreAsync(buffer, offset, count, useAsync: false, CancellationToken.None).GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadCoreAsync(buffer, offset, count, useAsync: true, cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public abstract ValueTask<int> ReadCoreAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken);
    }

    internal static class StreamReading
    {
        public static ValueTask<int> ReadAsync(Stream stream, byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken) =>
            stream is PipelineReadStream layer
                ? layer.ReadCoreAsync(buffer, offset, count, useAsync, cancellationToken)
                : useAsync
                    ? new ValueTask<int>(stream.ReadAsync(buffer, offset, count, cancellationToken))
                    : new ValueTask<int>(stream.Read(buffer, offset, count));

        /// <summary>Reads exactly <paramref name="count"/> bytes; returns how many arrived before the end (less only at the end).</summary>
        public static async ValueTask<int> ReadFullyAsync(Stream stream, byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            var filled = 0;
            while (filled < count)
            {
                var read = await ReadAsync(stream, buffer, offset + filled, count - filled, useAsync, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                filled += read;
            }
            return filled;
        }

        /// <summary>Reads and discards everything left; returns how many bytes that was.</summary>
        public static async ValueTask<long> DrainAsync(Stream stream, bool useAsync, CancellationToken cancellationToken)
        {
            var scratch = new byte[16 * 1024];
            long total = 0;
            int read;
            while ((read = await ReadAsync(stream, scratch, 0, scratch.Length, useAsync, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
            }
            return total;
        }

        public static ValueTask WriteAsync(Stream stream, byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            if (useAsync)
            {
                return new ValueTask(stream.WriteAsync(buffer, offset, count, cancellationToken));
            }
            stream.Write(buffer, offset, count);
            return default;
        }
    }

    /// <summary>Counts the bytes read from the file, so errors can name the offset where the file went wrong.</summary>
    internal sealed class CountingReadStream : PipelineReadStream
    {
        private readonly Stream _inner;

        public CountingReadStream(Stream inner) => _inner = inner;

        public long Consumed { get; private set; }

        public override async ValueTask<int> ReadCoreAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            var read = await StreamReading.ReadAsync(_inner, buffer, offset, count, useAsync, cancellationToken).ConfigureAwait(false);
            Consumed += read;
            return read;
        }
    }
}
