using System;
using RedisRecovery.Resp;

namespace RedisRecovery.Backup
{
    /// <summary>How Backup-RdbSnapshot may obtain the snapshot; <see cref="Auto"/> picks the best one the server allows.</summary>
    public enum SnapshotMethod
    {
        /// <summary>Replication, else Bgsave when the server's data directory is readable here, else Logical.</summary>
        Auto,
        Replication,
        Bgsave,
        Logical,
    }

    /// <summary>One snapshot to take: from which server, into which directory, how.</summary>
    public sealed class SnapshotRequest
    {
        public SnapshotRequest(RedisConnectionOptions connection, string destination)
        {
            Connection = connection ?? throw new ArgumentNullException(nameof(connection));
            Destination = string.IsNullOrWhiteSpace(destination)
                ? throw new RedisRecoveryException(SnapshotErrorIds.InvalidDestination, FailureKind.InvalidArgument, "A destination directory is required.")
                : destination;
        }

        /// <summary>The source server, credentials and TLS; its command timeout is the longest silence tolerated on the wire.</summary>
        public RedisConnectionOptions Connection { get; }

        /// <summary>The backup directory (created when missing).</summary>
        public string Destination { get; }

        /// <summary>The backup series; null for host-port of the endpoint.</summary>
        public string? Name { get; init; }

        public SnapshotMethod Method { get; init; } = SnapshotMethod.Auto;

        /// <summary>Upper bound on commands per second sent by the logical method; null for no limit.</summary>
        public int? MaxOpsPerSecond { get; init; }

        /// <summary>Longest wait for a BGSAVE to finish.</summary>
        public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

        /// <summary>The clock that names the backup; the current UTC time when null (tests inject one).</summary>
        public Func<DateTime>? UtcNow { get; init; }
    }

    /// <summary>The stable ErrorIds of snapshot backups; scripts and tests match on these.</summary>
    public static class SnapshotErrorIds
    {
        public const string InvalidDestination = "InvalidBackupDestination";
        public const string ReplicationUnavailable = "ReplicationUnavailable";
        public const string ReplicationRefused = "ReplicationRefused";
        public const string TransferInterrupted = "SnapshotTransferInterrupted";
        public const string BgsaveUnavailable = "BgsaveUnavailable";
        public const string BgsaveFailed = "BgsaveFailed";
        public const string BgsaveTimeout = "BgsaveTimeout";
        public const string DataDirectoryNotReadable = "DataDirectoryNotReadable";
        public const string DataFileMismatch = "DataFileMismatch";
        public const string LogicalUnavailable = "LogicalBackupUnavailable";
        public const string NoMethodAvailable = "NoSnapshotMethodAvailable";
    }
}
