using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// Reads a <see cref="RedisInstanceStatus"/> from one server: INFO for the facts every server shares, CONFIG GET
    /// for the persistence settings (where the service allows it), CLUSTER INFO when cluster mode is on; then
    /// derives the warnings.
    /// </summary>
    public static class InstanceStatusReader
    {
        /// <summary>The CONFIG parameters read, in this order.</summary>
        private static readonly string[] PersistenceParameters =
        {
            "save", "appendonly", "appendfsync", "aof-use-rdb-preamble", "dir", "dbfilename", "appenddirname",
        };

        /// <summary>Connects with <paramref name="options"/>, reads the status and closes the connection.</summary>
        public static async Task<RedisInstanceStatus> ReadAsync(RedisConnectionOptions options, IOperationLog? log = null, CancellationToken cancellationToken = default)
        {
            log ??= NullOperationLog.Instance;
            log.Verbose($"Connecting to {options.Endpoint}{(options.TlsEnabled ? " over TLS" : string.Empty)}.");
            await using var connection = await RedisConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            log.Verbose($"Connected to {options.Endpoint} (RESP{connection.ProtocolVersion}).");
            return await ReadAsync(connection, log, cancellationToken).ConfigureAwait(false);
        }

        public static async Task<RedisInstanceStatus> ReadAsync(RedisConnection connection, IOperationLog? log = null, CancellationToken cancellationToken = default)
        {
            log ??= NullOperationLog.Instance;
            var info = new RedisCommand("INFO");
            var commands = new List<RedisCommand> { info };
            commands.AddRange(PersistenceParameters.Select(name => new RedisCommand("CONFIG", "GET", name)));
            var replies = await connection.ExecuteBatchAsync(commands, cancellationToken).ConfigureAwait(false);
            if (replies[0].IsError)
            {
                throw connection.ToException(info, replies[0]);
            }
            var fields = new RedisInfo(replies[0].AsString() ?? string.Empty);

            var config = new Dictionary<string, string>(StringComparer.Ordinal);
            string? configProblem = null;
            for (var i = 0; i < PersistenceParameters.Length; i++)
            {
                var reply = replies[i + 1];
                if (reply.IsError)
                {
                    var error = connection.ToException(commands[i + 1], reply);
                    configProblem ??= error.ErrorId == RedisErrorIds.CommandNotPermitted ? "not permitted for this user" : "disabled or renamed, as on managed services";
                    log.Verbose($"CONFIG GET {PersistenceParameters[i]}: {error.Message}");
                    continue;
                }
                foreach (var pair in reply.AsPairs())
                {
                    config[pair.Key.AsString() ?? string.Empty] = pair.Value.AsString() ?? string.Empty;
                }
            }

            var clusterEnabled = fields.GetFlag("cluster_enabled");
            RedisInfo? cluster = null;
            string? clusterProblem = null;
            if (clusterEnabled)
            {
                var clusterInfo = new RedisCommand("CLUSTER", "INFO");
                var reply = (await connection.ExecuteBatchAsync(new[] { clusterInfo }, cancellationToken).ConfigureAwait(false))[0];
                if (reply.IsError)
                {
                    clusterProblem = connection.ToException(clusterInfo, reply).Message;
                }
                else
                {
                    cluster = new RedisInfo(reply.AsString() ?? string.Empty);
                }
            }
            return Build(connection.Endpoint.WithTls(connection.IsTls).ToString(), fields, configProblem is null ? config : null, configProblem, cluster, clusterProblem);
        }

        /// <summary>
        /// Assembles the status from INFO fields, the CONFIG values (null when CONFIG is unavailable) and CLUSTER INFO.
        /// Separate from the I/O so the warning rules can be checked against any INFO text.
        /// </summary>
        internal static RedisInstanceStatus Build(string endpoint, RedisInfo info, IReadOnlyDictionary<string, string>? config,
            string? configProblem, RedisInfo? cluster, string? clusterProblem)
        {
            string? Config(string name) => config != null && config.TryGetValue(name, out var value) ? value : null;
            bool? ConfigFlag(string name) => Config(name) is { } value ? value == "yes" : null;

            // Whole seconds, like rdb_last_save_time, so ages come out as whole seconds too.
            var serverTime = info.GetInt64("server_time_usec") is { } micros
                ? DateTimeOffset.FromUnixTimeSeconds(micros / 1_000_000)
                : DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            var lastSave = DateTimeOffset.FromUnixTimeSeconds(info.GetInt64("rdb_last_save_time") ?? 0);
            var role = info["role"] == "slave" ? "replica" : info["role"] ?? "unknown";
            var savePoints = Config("save");
            bool? rdbEnabled = savePoints is null ? null : savePoints.Trim().Length > 0;
            var appendOnly = info.GetFlag("aof_enabled");
            var databases = ReadKeyspace(info);

            var status = new RedisInstanceStatus
            {
                Endpoint = endpoint,
                Role = role,
                Version = info["redis_version"] ?? string.Empty,
                Mode = info["redis_mode"] ?? string.Empty,
                ProcessId = (int)(info.GetInt64("process_id") ?? 0),
                Uptime = TimeSpan.FromSeconds(info.GetInt64("uptime_in_seconds") ?? 0),
                ServerTime = serverTime,
                ConfigAvailable = config != null,
                PersistenceSummary = Summarize(rdbEnabled, appendOnly),
                SavePoints = savePoints,
                RdbSnapshotsEnabled = rdbEnabled,
                AppendOnly = appendOnly,
                AppendFsync = Config("appendfsync"),
                AofUseRdbPreamble = ConfigFlag("aof-use-rdb-preamble"),
                Directory = Config("dir"),
                DbFilename = Config("dbfilename"),
                AppendDirName = Config("appenddirname"),
                LastSaveTime = lastSave,
                LastSaveAge = serverTime > lastSave ? serverTime - lastSave : TimeSpan.Zero,
                ChangesSinceLastSave = info.GetInt64("rdb_changes_since_last_save") ?? 0,
                SavesSinceStart = info.GetInt64("rdb_saves") ?? 0,
                BgsaveInProgress = info.GetFlag("rdb_bgsave_in_progress"),
                LastBgsaveStatus = info["rdb_last_bgsave_status"] ?? string.Empty,
                AofRewriteInProgress = info.GetFlag("aof_rewrite_in_progress"),
                AofLastRewriteStatus = info["aof_last_bgrewrite_status"],
                AofLastWriteStatus = info["aof_last_write_status"],
                Loading = info.GetFlag("loading"),
                MasterHost = info["master_host"],
                MasterPort = info.GetInt64("master_port") is { } port ? (int)port : null,
                MasterLinkStatus = info["master_link_status"],
                MasterLinkDownSeconds = info.GetInt64("master_link_down_since_seconds"),
                ReplicationOffset = info.GetInt64("master_repl_offset") ?? 0,
                ReplicaOffset = info.GetInt64("slave_repl_offset"),
                ConnectedReplicas = (int)(info.GetInt64("connected_slaves") ?? 0),
                Replicas = ReadReplicas(info),
                ClusterEnabled = info.GetFlag("cluster_enabled"),
                ClusterState = cluster?["cluster_state"],
                ClusterSlotsAssigned = (int?)cluster?.GetInt64("cluster_slots_assigned"),
                ClusterSlotsOk = (int?)cluster?.GetInt64("cluster_slots_ok"),
                ClusterKnownNodes = (int?)cluster?.GetInt64("cluster_known_nodes"),
                Databases = databases,
                TotalKeys = databases.Sum(database => database.Keys),
                UsedMemory = info.GetInt64("used_memory") ?? 0,
                MaxMemory = info.GetInt64("maxmemory") ?? 0,
                MaxMemoryPolicy = info["maxmemory_policy"],
            };
            return status with { Warnings = Warn(status, configProblem, clusterProblem) };
        }
        private static string Summarize(bool? rdbEnabled, bool appendOnly) => (rdbEnabled, appendOnly) switch
        {
            (true, true) => "RDB+AOF",
            (true, false) => "RDB",
            (false, true) => "AOF",
            (false, false) => "none",
            (null, true) => "AOF, RDB unknown",
            (null, false) => "unknown",
        };

        private static IReadOnlyList<RedisDatabaseKeyCount> ReadKeyspace(RedisInfo info)
        {
            var databases = new List<RedisDatabaseKeyCount>();
            foreach (var field in info.Fields)
            {
                if (!field.Key.StartsWith("db", StringComparison.Ordinal) ||
                    !int.TryParse(field.Key.Substring(2), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    continue;
                }
                var counts = RedisInfo.ParseList(field.Value);
                databases.Add(new RedisDatabaseKeyCount
                {
                    Database = number,
                    Keys = Number(counts, "keys"),
                    Expires = Number(counts, "expires"),
                    AverageTtl = TimeSpan.FromMilliseconds(Number(counts, "avg_ttl")),
                });
            }
            return databases.OrderBy(database => database.Database).ToList();
        }

        private static IReadOnlyList<RedisReplicaLink> ReadReplicas(RedisInfo info)
        {
            var replicas = new List<RedisReplicaLink>();
            for (var index = 0; info["slave" + index.ToString(CultureInfo.InvariantCulture)] is { } line; index++)
            {
                var fields = RedisInfo.ParseList(line);
                var ip = fields.TryGetValue("ip", out var host) ? host : "?";
                replicas.Add(new RedisReplicaLink
                {
                    Address = (ip.IndexOf(':') >= 0 ? $"[{ip}]" : ip) + ":" + (fields.TryGetValue("port", out var port) ? port : "?"),
                    State = fields.TryGetValue("state", out var state) ? state : string.Empty,
                    Offset = Number(fields, "offset"),
                    Lag = Number(fields, "lag"),
                });
            }
            return replicas;
        }

        private static long Number(Dictionary<string, string> fields, string name) =>
            fields.TryGetValue(name, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : 0;

        /// <summary>The states that put data at risk, each said in words an operator can act on.</summary>
        private static IReadOnlyList<string> Warn(RedisInstanceStatus status, string? configProblem, string? clusterProblem)
        {
            var warnings = new List<string>();
            if (status.RdbSnapshotsEnabled == false && !status.AppendOnly)
            {
                warnings.Add("No persistence: RDB snapshots are off (save \"\") and AOF is off; a restart loses every key.");
            }
            if (configProblem != null)
            {
                warnings.Add($"CONFIG is unavailable ({configProblem}): persistence settings (save points, appendfsync, dir) are unknown.");
            }
            if (status.LastBgsaveStatus == "err")
            {
                warnings.Add("The last background save failed (rdb_last_bgsave_status:err): recent changes are only in memory; see the server log.");
            }
            if (status.AofLastWriteStatus == "err")
            {
                warnings.Add("AOF writes are failing (aof_last_write_status:err): changes are not being made durable; see the server log.");
            }
            if (status.AofLastRewriteStatus == "err")
            {
                warnings.Add("The last AOF rewrite failed (aof_last_bgrewrite_status:err); see the server log.");
            }
            if (status.Role == "replica" && status.MasterLinkStatus != "up")
            {
                var since = status.MasterLinkDownSeconds is { } seconds && seconds >= 0 ? $" for {seconds} s" : string.Empty;
                warnings.Add($"The replication link to master {status.MasterHost}:{status.MasterPort} is {status.MasterLinkStatus ?? "unknown"}{since}: this replica is not receiving changes.");
            }
            if (status.ClusterEnabled && status.ClusterState != null && status.ClusterState != "ok")
            {
                warnings.Add($"Cluster state is '{status.ClusterState}' ({status.ClusterSlotsOk ?? 0} of 16384 slots served): the cluster refuses some or all commands.");
            }
            if (clusterProblem != null)
            {
                warnings.Add($"Cluster mode is on but CLUSTER INFO failed: cluster state unknown ({clusterProblem}).");
            }
            if (status.Loading)
            {
                warnings.Add("The server is still loading its dataset: key counts are not final.");
            }
            return warnings;
        }
    }
}
