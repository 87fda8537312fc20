using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage.S3
{
    /// <summary>
    /// A fixed number of part-sized buffers, allocated on first use and reused: what bounds the memory of a transfer to
    /// PartSize × Parallelism. Taking one waits until a part in flight gives its buffer back.
    /// </summary>
    internal sealed class PartBuffers : IDisposable
    {
        private readonly SemaphoreSlim _available;
        private readonly Stack<byte[]> _free = new();
        private readonly int _size;

        public PartBuffers(int size, int count)
        {
            _size = size;
            _available = new SemaphoreSlim(count, count);
        }

        public async Task<byte[]> TakeAsync(CancellationToken cancellationToken)
        {
            await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
            return Pop();
        }

        /// <summary>A buffer if one is free now, else null.</summary>
        public byte[]? TryTake() => _available.Wait(0) ? Pop() : null;

        public void Return(byte[] buffer)
        {
            lock (_free)
            {
                _free.Push(buffer);
            }
            _available.Release();
        }

        public void Dispose() => _available.Dispose();

        private byte[] Pop()
        {
            lock (_free)
            {
                return _free.Count > 0 ? _free.Pop() : new byte[_size];
            }
        }
    }
}
