using System;
using System.Buffers;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// Collects the serialized bytes of one value as the walker consumes them. Up to the threshold they go into a
    /// pooled buffer; past it the walk pauses (its write awaits) until the entry's consumer names a destination,
    /// so a value of any size passes through with one buffer of memory and the source is read only once.
    /// </summary>
    internal sealed class ValueCapture : IConsumedBytesSink, IDisposable
    {
        private readonly int _threshold;
        private readonly object _gate = new object();
        private byte[] _buffer;
        private int _length;
        private long _total;
        private bool _overflowed;
        private TaskCompletionSource<bool>? _overflowSignal;
        private TaskCompletionSource<Stream>? _destination;
        private Stream? _target;

        public ValueCapture(int threshold)
        {
            _threshold = threshold;
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(threshold, 4096));
        }

        /// <summary>The walk that feeds this capture, when it did not finish synchronously.</summary>
        public Task? Walk { get; set; }

        public ReadOnlySpan<byte> Captured => new ReadOnlySpan<byte>(_buffer, 0, _length);

        public void Reset()
        {
            _length = 0;
            _total = 0;
            _overflowed = false;
            _overflowSignal = null;
            _destination = null;
            _target = null;
            Walk = null;
        }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> consumed, CancellationToken cancellationToken)
        {
            _total += consumed.Length;
            if (_target == null && _length + consumed.Length <= _threshold)
            {
                if (_length + consumed.Length > _buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(_threshold, Math.Max(_buffer.Length * 2, _length + consumed.Length)));
                    Buffer.BlockCopy(_buffer, 0, larger, 0, _length);
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = larger;
                }
                consumed.Span.CopyTo(new Span<byte>(_buffer, _length, consumed.Length));
                _length += consumed.Length;
                return default;
            }
            return WriteToTargetAsync(consumed, cancellationToken);
        }

        private async ValueTask WriteToTargetAsync(ReadOnlyMemory<byte> consumed, CancellationToken cancellationToken)
        {
            if (_target == null)
            {
                TaskCompletionSource<Stream> destination;
                lock (_gate)
                {
                    _overflowed = true;
                    destination = _destination ??= new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _overflowSignal?.TrySetResult(true);
                }
                _target = await destination.Task.ConfigureAwait(false);
                await WriteAsync(_target, new ReadOnlyMemory<byte>(_buffer, 0, _length), cancellationToken).ConfigureAwait(false);
                _length = 0;
            }
            await WriteAsync(_target, consumed, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Completes when the value turns out larger than the threshold.</summary>
        public Task OverflowSignal()
        {
            lock (_gate)
            {
                _overflowSignal ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_overflowed)
                {
                    _overflowSignal.TrySetResult(true);
                }
                return _overflowSignal.Task;
            }
        }

        /// <summary>Lets the paused walk continue into <paramref name="destination"/>; returns the value's length.</summary>
        public async ValueTask<long> CompleteAsync(Stream destination, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                _destination ??= new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            _destination.TrySetResult(destination);
            if (Walk != null)
            {
                using (cancellationToken.Register(() => _destination.TrySetCanceled()))
                {
                    await Walk.ConfigureAwait(false);
                }
            }
            return _total;
        }

        /// <summary>Ends a paused walk whose value nobody will take (the reader is being disposed).</summary>
        public void Abandon()
        {
            lock (_gate)
            {
                _destination ??= new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            _destination.TrySetCanceled();
        }

        internal static Task WriteAsync(Stream stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            if (MemoryMarshal.TryGetArray(data, out var segment))
            {
                return stream.WriteAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken);
            }
            var copy = data.ToArray();
            return stream.WriteAsync(copy, 0, copy.Length, cancellationToken);
        }

        public void Dispose()
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
