using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;

namespace RedisRecovery.Restore
{
    /// <summary>
    /// The live server a restore writes to: what it is (version, the newest RDB version its RESTORE takes), what it
    /// holds, and one pipeline that tracks the selected database and keeps to the ops-per-second limit.
    /// </summary>
    internal sealed class RestoreTarget : IAsyncDisposable
    {
        private readonly RedisConnection _connection;
        private readonly int? _maxOpsPerSecond;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _operations;
        private int _selected;

        private RestoreTarget(RedisConnection connection, string serverVersion, bool isClusterNode, int? maxOpsPerSecond)
        {
            _connection = connection;
            ServerVersion = serverVersion;
            IsClusterNode = isClusterNode;
            RdbVersion = RdbVersionOf(serverVersion);
            _maxOpsPerSecond = maxOpsPerSecond is > 0 ? maxOpsPerSecond : null;
            _selected = connection.Database;
        }

        public RedisConnection Connection => _connection;

        public string Address => _connection.Endpoint.Address;

        public string ServerVersion { get; }

        /// <summary>The newest RDB version the server reads (DUMP payloads with a higher version are refused).</summary>
        public int RdbVersion { get; }

        public Version Version => ParseVersion(ServerVersion);

        /// <summary>The server runs in cluster mode: a command may only name keys of one hash slot.</summary>
        public bool IsClusterNode { get; }

        public static async Task<RestoreTarget> ConnectAsync(RedisConnectionOptions options, int? maxOpsPerSecond, CancellationToken cancellationToken)
        {
            var connection = await RedisConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            try
            {
                var info = await InfoAsync(connection, "server", cancellationToken).ConfigureAwait(false);
                var version = info.TryGetValue("redis_version", out var v) ? v : connection.ServerVersion ?? "0.0.0";
                var cluster = await InfoAsync(connection, "cluster", cancellationToken).ConfigureAwait(false);
                var isClusterNode = cluster.TryGetValue("cluster_enabled", out var enabled) && enabled == "1";
                return new RestoreTarget(connection, version, isClusterNode, maxOpsPerSecond);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>The RDB version a Redis release writes and reads; a release newer than this table reads at least the newest known.</summary>
        public static int RdbVersionOf(string serverVersion)
        {
            var version = ParseVersion(serverVersion);
            return (version.Major, version.Minor) switch
            {
                ( < 2, _) => 1,
                (2, < 6) => 4,
                (2, _) => 6,
                (3, < 2) => 6,
                (3, _) => 7,
                (4, _) => 8,
                (5 or 6, _) => 9,
                (7, < 2) => 10,
                (7, < 4) => 11,
                (7, _) or (8, 0) => 12,
                _ => RdbFormat.NewestVersion,
            };
        }

        public Task<RespValue> ExecuteAsync(RedisCommand command, CancellationToken cancellationToken) =>
            _connection.ExecuteAsync(command, cancellationToken);

        public async Task<Dictionary<string, string>> InfoAsync(string section, CancellationToken cancellationToken) =>
            await InfoAsync(_connection, section, cancellationToken).ConfigureAwait(false);

        /// <summary>Keys per database (INFO keyspace); databases without keys are absent.</summary>
        public async Task<Dictionary<int, long>> KeyspaceAsync(CancellationToken cancellationToken)
        {
            var info = await InfoAsync("keyspace", cancellationToken).ConfigureAwait(false);
            var counts = new Dictionary<int, long>();
            foreach (var pair in info)
            {
                if (!pair.Key.StartsWith("db", StringComparison.Ordinal) || !int.TryParse(pair.Key.Substring(2), NumberStyles.None, CultureInfo.InvariantCulture, out var db))
                {
                    continue;
                }
                foreach (var part in pair.Value.Split(','))
                {
                    if (part.StartsWith("keys=", StringComparison.Ordinal) && long.TryParse(part.Substring(5), NumberStyles.None, CultureInfo.InvariantCulture, out var keys) && keys > 0)
                    {
                        counts[db] = keys;
                    }
                }
            }
            return counts;
        }

        /// <summary>DEBUG DIGEST, or null when the server does not allow DEBUG (the default since 7.0, and on managed services).</summary>
        public async Task<string?> DigestAsync(CancellationToken cancellationToken)
        {
            try
            {
                var reply = await _connection.ExecuteAsync(new RedisCommand("DEBUG", "DIGEST"), cancellationToken).ConfigureAwait(false);
                return reply.AsString();
            }
            catch (RedisServerErrorException)
            {
                return null;
            }
        }

        public RedisPipeline<TTag> CreatePipeline<TTag>(Action<TTag, RespValue> onReply) => _connection.CreatePipeline(onReply);

        /// <summary>Sends SELECT through the pipeline when <paramref name="database"/> is not the selected one.</summary>
        public async Task SelectAsync<TTag>(RedisPipeline<TTag> pipeline, int database, TTag tag, CancellationToken cancellationToken)
        {
            if (database != _selected)
            {
                await SendAsync(pipeline, new RedisCommand("SELECT", database), tag, cancellationToken).ConfigureAwait(false);
                _selected = database;
            }
        }

        /// <summary>Forgets which database is selected (after a command that may have changed it, such as a replayed SELECT).</summary>
        public void SelectedBy(int database) => _selected = database;

        /// <summary>Sends a command that counts as <paramref name="operations"/> towards the ops-per-second limit (the keys of a batch).</summary>
        public async Task SendAsync<TTag>(RedisPipeline<TTag> pipeline, RedisCommand command, TTag tag, CancellationToken cancellationToken, int operations = 1)
        {
            await ThrottleAsync(pipeline, cancellationToken, operations).ConfigureAwait(false);
            await pipeline.SendAsync(command, tag, cancellationToken).ConfigureAwait(false);
        }

        public async Task SendEncodedAsync<TTag>(RedisPipeline<TTag> pipeline, string name, ReadOnlyMemory<byte> encoded, TTag tag, CancellationToken cancellationToken)
        {
            await ThrottleAsync(pipeline, cancellationToken).ConfigureAwait(false);
            await pipeline.SendEncodedAsync(name, encoded, tag, cancellationToken).ConfigureAwait(false);
        }

        public async Task SendStreamedAsync<TTag>(RedisPipeline<TTag> pipeline, RedisCommand head, System.IO.Stream source, long length,
            IReadOnlyList<RedisArgument> tail, TTag tag, CancellationToken cancellationToken)
        {
            await ThrottleAsync(pipeline, cancellationToken).ConfigureAwait(false);
            await pipeline.SendStreamedAsync(head, source, length, tail, tag, cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync() => await _connection.DisposeAsync().ConfigureAwait(false);

        /// <summary>Waits as long as needed for the commands sent so far to keep to the limit, reading the replies
        /// that are due meanwhile (so a slow restore's counts and checkpoints stay current).</summary>
        private async Task ThrottleAsync<TTag>(RedisPipeline<TTag> pipeline, CancellationToken cancellationToken, int operations = 1)
        {
            _operations += operations;
            if (_maxOpsPerSecond is not int limit)
            {
                return;
            }
            var due = TimeSpan.FromSeconds((double)_operations / limit) - _clock.Elapsed;
            if (due > TimeSpan.FromMilliseconds(5))
            {
                await pipeline.CompleteAsync(cancellationToken).ConfigureAwait(false);
                due = TimeSpan.FromSeconds((double)_operations / limit) - _clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private static async Task<Dictionary<string, string>> InfoAsync(RedisConnection connection, string section, CancellationToken cancellationToken)
        {
            var reply = await connection.ExecuteAsync(new RedisCommand("INFO", section), cancellationToken).ConfigureAwait(false);
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in (reply.AsString() ?? string.Empty).Split('\n'))
            {
                var colon = line.IndexOf(':');
                if (colon > 0 && !line.StartsWith("#", StringComparison.Ordinal))
                {
                    fields[line.Substring(0, colon)] = line.Substring(colon + 1).TrimEnd('\r');
                }
            }
            return fields;
        }

        private static Version ParseVersion(string text)
        {
            var parts = text.Split('.');
            int Part(int index) => index < parts.Length && int.TryParse(parts[index], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            return new Version(Part(0), Part(1), Part(2));
        }
    }
}
