using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Resp;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// Takes the RDB a master sends a new replica, as <c>redis-cli --rdb</c> does: REPLCONF (capa eof, rdb-only),
    /// PSYNC ? -1 or SYNC, the keep-alive newlines while the master forks, then the payload in either form:
    /// <c>$&lt;length&gt;</c> followed by that many bytes, or (diskless) <c>$EOF:&lt;40-byte mark&gt;</c> followed by
    /// bytes that end with the same mark. Stops after the RDB and closes the connection.
    /// </summary>
    internal sealed class ReplicationTransfer : SnapshotTransfer
    {
        private const int EofMarkLength = 40;
        private const string EofPrefix = "EOF:";
        private readonly RedisConnection _connection;
        private readonly byte[]? _eofMark;
        private readonly long? _length;

        private ReplicationTransfer(RedisConnection connection, long? length, byte[]? eofMark)
        {
            _connection = connection;
            _length = length;
            _eofMark = eofMark;
            ServerVersion = connection.ServerVersion;
        }

        public override BackupMethod Method => BackupMethod.Replication;

        public override long? Length => _length;

        /// <summary>True when the master streams the RDB straight from its fork (repl-diskless-sync).</summary>
        public bool IsDiskless => _eofMark != null;

        /// <summary>Connects and negotiates until the master announces the payload.</summary>
        public static async Task<ReplicationTransfer> StartAsync(RedisConnectionOptions options, IOperationLog log, CancellationToken cancellationToken)
        {
            var connection = await RedisConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            try
            {
                await NegotiateAsync(connection, log, cancellationToken).ConfigureAwait(false);
                var header = await ReadPayloadHeaderAsync(connection, log, cancellationToken).ConfigureAwait(false);
                return header;
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public override async Task CopyToAsync(Stream destination, CancellationToken cancellationToken)
        {
            var buffer = new byte[CopyBufferSize];
            if (_eofMark != null)
            {
                await CopyUntilMarkAsync(destination, buffer, _eofMark, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await CopyLengthAsync(destination, buffer, _length!.Value, cancellationToken).ConfigureAwait(false);
            }
            // The RDB is all we want: close before the master streams its replication backlog.
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        public override ValueTask DisposeAsync() => _connection.DisposeAsync();

        private static async Task NegotiateAsync(RedisConnection connection, IOperationLog log, CancellationToken cancellationToken)
        {
            var capabilities = new RedisCommand("REPLCONF", "capa", "eof", "capa", "psync2")
            {
                UnavailableAdvice = "The server does not accept replicas from this user: use -Method Bgsave or -Method Logical.",
            };
            try
            {
                await connection.ExecuteAsync(capabilities, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerErrorException error) when (error.Kind == FailureKind.CommandUnavailable)
            {
                throw Unavailable(error);
            }
            try
            {
                // Redis 7+: the master sends the RDB and nothing after it, and skips keeping a backlog for us.
                await connection.ExecuteAsync(new RedisCommand("REPLCONF", "rdb-only", 1), cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerErrorException error)
            {
                log.Verbose($"{connection.Endpoint.Address} does not know REPLCONF rdb-only ({error.ErrorPrefix}); the connection is closed right after the RDB instead.");
            }
        }

        private static async Task<ReplicationTransfer> ReadPayloadHeaderAsync(RedisConnection connection, IOperationLog log, CancellationToken cancellationToken)
        {
            var psync = new RedisCommand("PSYNC", "?", -1);
            await connection.SendAsync(psync, cancellationToken).ConfigureAwait(false);
            var line = await ReadNonEmptyLineAsync(connection, cancellationToken).ConfigureAwait(false);
            if (line.StartsWith("-", StringComparison.Ordinal))
            {
                var error = connection.ToException(psync, RespValue.FromBytes(RespType.Error, Encoding.UTF8.GetBytes(line.Substring(1))));
                if (error.Kind != FailureKind.CommandUnavailable)
                {
                    throw Refused(connection, psync, error);
                }
                log.Verbose($"{connection.Endpoint.Address} refused PSYNC ({error.ErrorPrefix}); trying SYNC.");
                var sync = new RedisCommand("SYNC");
                await connection.SendAsync(sync, cancellationToken).ConfigureAwait(false);
                line = await ReadNonEmptyLineAsync(connection, cancellationToken).ConfigureAwait(false);
                if (line.StartsWith("-", StringComparison.Ordinal))
                {
                    var syncError = connection.ToException(sync, RespValue.FromBytes(RespType.Error, Encoding.UTF8.GetBytes(line.Substring(1))));
                    throw syncError.Kind == FailureKind.CommandUnavailable ? Unavailable(syncError) : Refused(connection, sync, syncError);
                }
            }
            else if (line.StartsWith("+FULLRESYNC", StringComparison.Ordinal))
            {
                log.Verbose($"{connection.Endpoint.Address} agreed to a full resynchronisation; waiting for its RDB.");
                line = await ReadNonEmptyLineAsync(connection, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                throw new RedisProtocolException(connection.Endpoint.Address, 0,
                    $"{connection.Endpoint.Address} answered PSYNC ? -1 with '{Shorten(line)}' instead of +FULLRESYNC.");
            }
            return ParsePayloadHeader(connection, line);
        }

        private static ReplicationTransfer ParsePayloadHeader(RedisConnection connection, string line)
        {
            var address = connection.Endpoint.Address;
            if (line.StartsWith("$" + EofPrefix, StringComparison.Ordinal))
            {
                var mark = line.Substring(1 + EofPrefix.Length);
                if (mark.Length != EofMarkLength)
                {
                    throw new RedisProtocolException(address, 0, $"{address} sent an end-of-file mark of {mark.Length} bytes; a mark has {EofMarkLength}.");
                }
                return new ReplicationTransfer(connection, length: null, Encoding.ASCII.GetBytes(mark));
            }
            if (line.StartsWith("$", StringComparison.Ordinal) &&
                long.TryParse(line.Substring(1), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                return new ReplicationTransfer(connection, length, eofMark: null);
            }
            throw new RedisProtocolException(address, 0, $"{address} sent '{Shorten(line)}' where the RDB payload header ($<length> or $EOF:<mark>) belongs.");
        }

        /// <summary>Skips the newlines a master sends every second while it prepares the RDB (they also reset the timeout).</summary>
        private static async Task<string> ReadNonEmptyLineAsync(RedisConnection connection, CancellationToken cancellationToken)
        {
            while (true)
            {
                var line = await connection.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (line.Length > 0)
                {
                    return line;
                }
            }
        }

        private async Task CopyLengthAsync(Stream destination, byte[] buffer, long length, CancellationToken cancellationToken)
        {
            var remaining = length;
            var filled = 0;
            while (remaining > 0)
            {
                var wanted = (int)Math.Min(buffer.Length - filled, remaining);
                var read = await ReadAsync(buffer, filled, wanted, length - remaining, cancellationToken).ConfigureAwait(false);
                filled += read;
                remaining -= read;
                if (filled >= buffer.Length / 2 || remaining == 0)
                {
                    await WriteAsync(destination, buffer, filled, cancellationToken).ConfigureAwait(false);
                    filled = 0;
                }
            }
        }

        /// <summary>
        /// The diskless form has no length: the payload ends where the last bytes received equal the mark. The
        /// last <see cref="EofMarkLength"/> bytes are therefore always held back until more arrive.
        /// </summary>
        private async Task CopyUntilMarkAsync(Stream destination, byte[] buffer, byte[] mark, CancellationToken cancellationToken)
        {
            var filled = 0;
            long received = 0;
            while (true)
            {
                var read = await ReadAsync(buffer, filled, buffer.Length - filled, received, cancellationToken).ConfigureAwait(false);
                filled += read;
                received += read;
                if (filled >= EofMarkLength && buffer.AsSpan(filled - EofMarkLength, EofMarkLength).SequenceEqual(mark))
                {
                    await WriteAsync(destination, buffer, filled - EofMarkLength, cancellationToken).ConfigureAwait(false);
                    return;
                }
                if (filled >= buffer.Length / 2)
                {
                    var payload = filled - EofMarkLength;
                    await WriteAsync(destination, buffer, payload, cancellationToken).ConfigureAwait(false);
                    Buffer.BlockCopy(buffer, payload, buffer, 0, EofMarkLength);
                    filled = EofMarkLength;
                }
            }
        }

        private async Task<int> ReadAsync(byte[] buffer, int offset, int count, long receivedSoFar, CancellationToken cancellationToken)
        {
            int read;
            try
            {
                read = await _connection.ReadRawAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false);
            }
            catch (RedisConnectionException failure) when (failure.ErrorId != RedisErrorIds.CommandTimeout)
            {
                throw Interrupted(receivedSoFar, failure);
            }
            return read > 0 ? read : throw Interrupted(receivedSoFar, null);
        }

        private RedisRecoveryException Interrupted(long receivedSoFar, Exception? cause)
        {
            var expected = _length is long length ? $" of {length}" : string.Empty;
            return new RedisRecoveryException(SnapshotErrorIds.TransferInterrupted, FailureKind.ConnectionFailed,
                $"{_connection.Endpoint.Address} closed the connection after {receivedSoFar}{expected} bytes of the RDB: the snapshot is incomplete and was discarded.", cause)
            {
                Target = _connection.Endpoint.ToString(),
            };
        }

        private static RedisRecoveryException Unavailable(RedisServerErrorException error) =>
            new(SnapshotErrorIds.ReplicationUnavailable, FailureKind.CommandUnavailable,
                $"Replication is not available: {error.Message}", error) { Target = error.Target };

        private static RedisRecoveryException Refused(RedisConnection connection, RedisCommand command, RedisServerErrorException error) =>
            error.Kind == FailureKind.AuthenticationFailed
                ? error
                : new RedisRecoveryException(SnapshotErrorIds.ReplicationRefused, FailureKind.ServerError,
                    $"{connection.Endpoint.Address} refused {command.Name}: {error.ServerMessage}", error) { Target = connection.Endpoint.ToString() };

        private static string Shorten(string line) => line.Length <= 64 ? line : line.Substring(0, 64) + "...";
    }
}
