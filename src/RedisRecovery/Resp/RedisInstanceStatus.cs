using System;
using System.Collections.Generic;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// What one server says about itself: role, version, persistence, replication, cluster, keys and memory, plus
    /// <see cref="Warnings"/> for states that put data at risk. Null means the server did not tell (CONFIG hidden,
    /// or a field the role does not have).
    /// </summary>
    public sealed record RedisInstanceStatus
    {
        /// <summary>The endpoint as given (password never included); pipes into other cmdlets' -Endpoint.</summary>
        public string Endpoint { get; init; } = string.Empty;

        /// <summary>"master" or "replica".</summary>
        public string Role { get; init; } = string.Empty;

        public string Version { get; init; } = string.Empty;

        /// <summary>standalone, cluster or sentinel.</summary>
        public string Mode { get; init; } = string.Empty;

        public int ProcessId { get; init; }

        public TimeSpan Uptime { get; init; }

        /// <summary>The server's clock when it answered (ages below are computed from it, not the local clock).</summary>
        public DateTimeOffset ServerTime { get; init; }

        /// <summary>True when CONFIG GET answered; false on managed services that hide it (persistence settings unknown).</summary>
        public bool ConfigAvailable { get; init; }

        /// <summary>"RDB", "AOF", "RDB+AOF", "none", "AOF, RDB unknown" or "unknown".</summary>
        public string PersistenceSummary { get; init; } = string.Empty;

        /// <summary>The save points ("3600 1 300 100"); empty when snapshots are off; null when CONFIG is unavailable.</summary>
        public string? SavePoints { get; init; }

        public bool? RdbSnapshotsEnabled { get; init; }

        public bool AppendOnly { get; init; }

        public string? AppendFsync { get; init; }

        public bool? AofUseRdbPreamble { get; init; }

        public string? Directory { get; init; }

        public string? DbFilename { get; init; }

        /// <summary>The AOF directory name inside <see cref="Directory"/> (Redis 7+); null before 7 or when CONFIG is unavailable.</summary>
        public string? AppendDirName { get; init; }

        /// <summary>When the last successful RDB save ended (server start when none happened since).</summary>
        public DateTimeOffset LastSaveTime { get; init; }

        public TimeSpan LastSaveAge { get; init; }

        public long ChangesSinceLastSave { get; init; }

        public long SavesSinceStart { get; init; }

        public bool BgsaveInProgress { get; init; }

        /// <summary>"ok" or "err".</summary>
        public string LastBgsaveStatus { get; init; } = string.Empty;

        public bool AofRewriteInProgress { get; init; }

        public string? AofLastRewriteStatus { get; init; }

        public string? AofLastWriteStatus { get; init; }

        public bool Loading { get; init; }

        public string? MasterHost { get; init; }

        public int? MasterPort { get; init; }

        /// <summary>"up" or "down" on a replica; null on a master.</summary>
        public string? MasterLinkStatus { get; init; }

        public long? MasterLinkDownSeconds { get; init; }

        /// <summary>The replication offset this server has produced (master) or relayed.</summary>
        public long ReplicationOffset { get; init; }

        /// <summary>How far a replica has processed its master's stream; null on a master.</summary>
        public long? ReplicaOffset { get; init; }

        public int ConnectedReplicas { get; init; }

        public IReadOnlyList<RedisReplicaLink> Replicas { get; init; } = Array.Empty<RedisReplicaLink>();

        public bool ClusterEnabled { get; init; }

        /// <summary>"ok" or "fail" from CLUSTER INFO; null when cluster mode is off or CLUSTER INFO is unavailable.</summary>
        public string? ClusterState { get; init; }

        public int? ClusterSlotsAssigned { get; init; }

        public int? ClusterSlotsOk { get; init; }

        public int? ClusterKnownNodes { get; init; }

        public IReadOnlyList<RedisDatabaseKeyCount> Databases { get; init; } = Array.Empty<RedisDatabaseKeyCount>();

        public long TotalKeys { get; init; }

        public long UsedMemory { get; init; }

        /// <summary>0 = no limit.</summary>
        public long MaxMemory { get; init; }

        public string? MaxMemoryPolicy { get; init; }

        public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

        public override string ToString() => $"{Endpoint} {Role} {Version}";
    }

    /// <summary>One replica as its master sees it (INFO replication slaveN lines).</summary>
    public sealed class RedisReplicaLink
    {
        public string Address { get; init; } = string.Empty;

        public string State { get; init; } = string.Empty;

        public long Offset { get; init; }

        public long Lag { get; init; }

        public override string ToString() => $"{Address} {State} offset {Offset}";
    }

    /// <summary>Keys in one logical database (INFO keyspace).</summary>
    public sealed class RedisDatabaseKeyCount
    {
        public int Database { get; init; }

        public long Keys { get; init; }

        public long Expires { get; init; }

        public TimeSpan AverageTtl { get; init; }

        public override string ToString() => $"db{Database}: {Keys} keys, {Expires} with expiry";
    }
}
