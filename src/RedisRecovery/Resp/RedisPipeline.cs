using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// Streams commands to one connection with a bounded number of unanswered bytes: commands are buffered and sent
    /// in large writes; when more than the connection's MaxInFlightBytes await replies, replies are read (oldest
    /// first, each handed to the callback with its tag) until half of that remains. Memory stays flat on both sides
    /// however many commands go through, which is what a bulk restore needs.
    /// </summary>
    public sealed class RedisPipeline<TTag>
    {
        private readonly RedisConnection _connection;
        private readonly Action<TTag, RespValue> _onReply;
        private readonly Queue<(TTag Tag, long Size)> _unanswered = new();
        private long _inFlightBytes;
        private bool _unflushed;

        internal RedisPipeline(RedisConnection connection, Action<TTag, RespValue> onReply)
        {
            _connection = connection;
            _onReply = onReply;
        }

        /// <summary>Commands sent whose replies have not been read yet.</summary>
        public int Pending => _unanswered.Count;

        public long Sent { get; private set; }

        public long Answered { get; private set; }

        public Task SendAsync(RedisCommand command, TTag tag, CancellationToken cancellationToken = default)
        {
            var size = command.EncodedLength;
            return FitsInFlight(size) && _connection.TryWriteBuffered(command, size)
                ? Buffered(tag, size)
                : SendCoreAsync(command.Name, size, token => _connection.WriteAsync(command, token), tag, cancellationToken);
        }

        /// <summary>Sends bytes that already are one RESP command (<paramref name="name"/> is for messages only):
        /// replaying an AOF needs no decoding and re-encoding.</summary>
        public Task SendEncodedAsync(string name, ReadOnlyMemory<byte> encoded, TTag tag, CancellationToken cancellationToken = default) =>
            FitsInFlight(encoded.Length) && _connection.TryWriteEncodedBuffered(encoded)
                ? Buffered(tag, encoded.Length)
                : SendCoreAsync(name, encoded.Length, token => _connection.WriteEncodedAsync(encoded, token), tag, cancellationToken);

        /// <summary>Sends <paramref name="head"/>, then an argument streamed from <paramref name="source"/>, then <paramref name="tail"/>:
        /// for values too large to hold in memory.</summary>
        public Task SendStreamedAsync(RedisCommand head, System.IO.Stream source, long length, IReadOnlyList<RedisArgument> tail, TTag tag,
            CancellationToken cancellationToken = default) =>
            SendCoreAsync(head.Name, head.EncodedLength + length, token => _connection.WriteStreamedAsync(head, source, length, tail, token), tag, cancellationToken);

        private bool FitsInFlight(long size) => _inFlightBytes + size <= _connection.MaxInFlightBytes;

        /// <summary>Accounts for a command that went into the write buffer without I/O (the common case of a bulk load).</summary>
        private Task Buffered(TTag tag, long size)
        {
            _unanswered.Enqueue((tag, size));
            _inFlightBytes += size;
            _unflushed = true;
            Sent++;
            return Task.CompletedTask;
        }

        private Task SendCoreAsync(string name, long size, Func<CancellationToken, ValueTask> write, TTag tag, CancellationToken cancellationToken) =>
            _connection.RunAsync(name, async token =>
            {
                await write(token).ConfigureAwait(false);
                _unanswered.Enqueue((tag, size));
                _inFlightBytes += size;
                _unflushed = true;
                Sent++;
                if (_inFlightBytes > _connection.MaxInFlightBytes)
                {
                    await DrainAsync(_connection.MaxInFlightBytes / 2, token).ConfigureAwait(false);
                }
                return true;
            }, cancellationToken);

        /// <summary>Sends what is buffered and reads every outstanding reply.</summary>
        public Task CompleteAsync(CancellationToken cancellationToken = default) =>
            _connection.RunAsync("pipeline", async token =>
            {
                await DrainAsync(0, token).ConfigureAwait(false);
                return true;
            }, cancellationToken);

        private async Task DrainAsync(long target, CancellationToken token)
        {
            if (_unflushed)
            {
                await _connection.FlushAsync(token).ConfigureAwait(false);
                _unflushed = false;
            }
            while (_unanswered.Count > 0 && (_inFlightBytes > target || target == 0))
            {
                var reply = _connection.TryTakeBufferedOk() ? RespValue.Ok : await _connection.ReadReplyCoreAsync(token).ConfigureAwait(false);
                var (tag, size) = _unanswered.Dequeue();
                _inFlightBytes -= size;
                Answered++;
                _onReply(tag, reply);
            }
        }
    }
}
