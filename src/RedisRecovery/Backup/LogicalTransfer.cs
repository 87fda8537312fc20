using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// For managed services where SYNC, BGSAVE and CONFIG are hidden: SCAN every database that INFO keyspace lists,
    /// DUMP + PTTL each key through a pipeline, and write the payloads into an RDB with the RDB writer. Keys are read
    /// at different moments, so the copy is not a single point in time; a key deleted between SCAN and DUMP is
    /// skipped and counted.
    /// </summary>
    internal sealed class LogicalTransfer : SnapshotTransfer
    {
        private const int ScanCount = 200;
        private readonly RedisConnection _connection;
        private readonly IReadOnlyList<int> _databases;
        private readonly int? _maxOpsPerSecond;
        private readonly IOperationLog _log;
        private readonly bool _hasExpireTime;
        private readonly Stopwatch _clock = new();
        private long _operations;

        private static readonly int RdbWriterDefaultVersion = new RdbWriterOptions().Version;

        private LogicalTransfer(RedisConnection connection, IReadOnlyList<int> databases, string? serverVersion, bool hasExpireTime, int? maxOpsPerSecond, IOperationLog log)
        {
            _hasExpireTime = hasExpireTime;
            _connection = connection;
            _databases = databases;
            _maxOpsPerSecond = maxOpsPerSecond;
            _log = log;
            ServerVersion = serverVersion;
        }

        public override BackupMethod Method => BackupMethod.Logical;

        public override bool PointInTime => false;

        public override long? Length => null;

        /// <summary>Keys that SCAN listed but that were gone when DUMP or PTTL reached them.</summary>
        public long VanishedKeys { get; private set; }

        public static async Task<LogicalTransfer> StartAsync(RedisConnectionOptions options, int? maxOpsPerSecond, IOperationLog log, CancellationToken cancellationToken)
        {
            var connection = await RedisConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            try
            {
                var databases = (await RedisInfo.ReadAsync(connection, "keyspace", cancellationToken).ConfigureAwait(false)).KeysPerDatabase().Keys.ToList();
                var serverVersion = connection.ServerVersion ?? (await RedisInfo.ReadAsync(connection, "server", cancellationToken).ConfigureAwait(false))["redis_version"];
                // DUMP of an absent key answers nil: a cheap probe that the commands exist before any file does.
                var absentKey = "redisrecovery:probe:" + Guid.NewGuid().ToString("N");
                foreach (var probe in new[] { new RedisCommand("SCAN", 0, "COUNT", 1), new RedisCommand("DUMP", absentKey) })
                {
                    try
                    {
                        await connection.ExecuteAsync(probe, cancellationToken).ConfigureAwait(false);
                    }
                    catch (RedisServerErrorException error) when (error.Kind == FailureKind.CommandUnavailable)
                    {
                        throw new RedisRecoveryException(SnapshotErrorIds.LogicalUnavailable, FailureKind.CommandUnavailable,
                            $"A logical backup needs SCAN and DUMP: {error.Message}", error) { Target = error.Target };
                    }
                }
                var hasExpireTime = await HasExpireTimeAsync(connection, absentKey, cancellationToken).ConfigureAwait(false);
                log.Warning($"The logical backup of {options.Endpoint.Address} reads its keys one by one while the server keeps changing: it is not a single point in time (PointInTime = false).");
                return new LogicalTransfer(connection, databases, serverVersion, hasExpireTime, maxOpsPerSecond, log);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public override async Task CopyToAsync(Stream destination, CancellationToken cancellationToken)
        {
            _clock.Start();
            RdbWriter? writer = null;
            long written = 0;
            try
            {
                foreach (var database in _databases)
                {
                    await _connection.ExecuteAsync(new RedisCommand("SELECT", database), cancellationToken).ConfigureAwait(false);
                    // SCAN may return a key twice while the server resizes its table; an RDB must not hold it twice.
                    var seen = new HashSet<ulong>();
                    var cursor = "0";
                    do
                    {
                        await ThrottleAsync(1, cancellationToken).ConfigureAwait(false);
                        var page = await _connection.ExecuteAsync(new RedisCommand("SCAN", cursor, "COUNT", ScanCount), cancellationToken).ConfigureAwait(false);
                        cursor = page.Items[0].AsString() ?? "0";
                        var keys = page.Items[1].Items.Select(key => key.Bytes!).Where(key => seen.Add(Crc64.Compute(key))).ToList();
                        if (keys.Count == 0)
                        {
                            continue;
                        }
                        await ThrottleAsync(keys.Count * 2, cancellationToken).ConfigureAwait(false);
                        var commands = keys.SelectMany(key => new[] { new RedisCommand("DUMP", key), new RedisCommand(_hasExpireTime ? "PEXPIRETIME" : "PTTL", key) }).ToList();
                        var replies = await _connection.ExecuteBatchAsync(commands, cancellationToken).ConfigureAwait(false);
                        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                        for (var i = 0; i < keys.Count; i++)
                        {
                            var dump = Expect(replies[2 * i], commands[2 * i]);
                            var expiry = Expect(replies[2 * i + 1], commands[2 * i + 1]).Integer;
                            if (dump.IsNull || expiry == -2)
                            {
                                VanishedKeys++;
                                continue;
                            }
                            var content = RdbDumpPayload.Parse(dump.Bytes!, $"DUMP of a key in db{database} of {_connection.Endpoint.Address}");
                            writer ??= await StartWriterAsync(destination, content.RdbVersion, cancellationToken).ConfigureAwait(false);
                            await writer.WriteEntryAsync(database, keys[i], content.TypeId, content.Value, expiry < 0 ? null : _hasExpireTime ? expiry : nowMs + expiry, cancellationToken).ConfigureAwait(false);
                            written++;
                        }
                    }
                    while (cursor != "0");
                }
                writer ??= await StartWriterAsync(destination, RdbWriterDefaultVersion, cancellationToken).ConfigureAwait(false);
                await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                writer?.Dispose();
            }
            _log.Verbose($"Logical backup of {_connection.Endpoint.Address}: {written} keys from {_databases.Count} databases in {_operations} commands.");
            if (VanishedKeys > 0)
            {
                _log.Warning($"{VanishedKeys} keys of {_connection.Endpoint.Address} were deleted or expired between SCAN and DUMP; they are not in the backup.");
            }
        }

        public override ValueTask DisposeAsync() => _connection.DisposeAsync();

        /// <summary>The file takes the payloads' RDB version: values are copied as serialized, in that version's encodings.</summary>
        private async Task<RdbWriter> StartWriterAsync(Stream destination, int payloadVersion, CancellationToken cancellationToken)
        {
            var writer = new RdbWriter(destination, new RdbWriterOptions { Version = Math.Min(payloadVersion, RdbFormat.NewestVersion), LeaveOpen = true });
            if (ServerVersion != null)
            {
                await writer.WriteAuxAsync("redis-ver", ServerVersion, cancellationToken).ConfigureAwait(false);
            }
            await writer.WriteAuxAsync("ctime", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
            return writer;
        }

        /// <summary>PEXPIRETIME (Redis 7+) gives the exact expiry; older servers only tell the time left (PTTL).</summary>
        private static async Task<bool> HasExpireTimeAsync(RedisConnection connection, string absentKey, CancellationToken cancellationToken)
        {
            try
            {
                await connection.ExecuteAsync(new RedisCommand("PEXPIRETIME", absentKey), cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (RedisServerErrorException error) when (error.Kind == FailureKind.CommandUnavailable)
            {
                return false;
            }
        }

        private RespValue Expect(RespValue reply, RedisCommand command) => reply.IsError ? throw _connection.ToException(command, reply) : reply;

        /// <summary>Sleeps as needed so the commands sent stay within -MaxOpsPerSecond on average.</summary>
        private async Task ThrottleAsync(int operations, CancellationToken cancellationToken)
        {
            _operations += operations;
            if (_maxOpsPerSecond is int rate)
            {
                var due = TimeSpan.FromSeconds((double)_operations / rate) - _clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
