namespace RedisRecovery.Backup
{
    /// <summary>How a backup's bytes were obtained from the server.</summary>
    public enum BackupMethod
    {
        /// <summary>As a replica (PSYNC/SYNC): a single point in time.</summary>
        Replication,

        /// <summary>BGSAVE on the server's host, then a copy of its RDB file: a single point in time.</summary>
        Bgsave,

        /// <summary>SCAN + DUMP of every key: not a single point in time.</summary>
        Logical,
    }

    /// <summary>Whether a cataloged backup is whole: its file and sidecar exist and agree.</summary>
    public enum BackupStatus
    {
        Ok,

        /// <summary>The sidecar exists but the backup file does not.</summary>
        MissingFile,

        /// <summary>The backup file exists but has no sidecar, so its checksum and contents are unknown.</summary>
        MissingSidecar,

        /// <summary>The file's size differs from the size its sidecar recorded: truncated or replaced.</summary>
        SizeMismatch,

        /// <summary>The sidecar cannot be read: not JSON, fields missing or invalid, or a newer schema.</summary>
        SidecarInvalid,
    }
}
