using System;

namespace RedisRecovery.Backup
{
    /// <summary>What removing backups did to one backup (or, under -WhatIf, would do), and why.</summary>
    public sealed class BackupRemoval
    {
        private BackupRemoval(RdbBackup backup, RetentionAction action, RetentionRules keptBy, string reason, bool removed)
        {
            Path = backup.Path;
            Name = backup.Name;
            CreatedUtc = backup.CreatedUtc;
            Status = backup.Status;
            Action = action;
            KeptBy = keptBy;
            Reason = reason;
            Removed = removed;
        }

        public string Path { get; }

        public string Name { get; }

        public DateTime CreatedUtc { get; }

        /// <summary>The backup's status when it was considered.</summary>
        public BackupStatus Status { get; }

        public RetentionAction Action { get; }

        public RetentionRules KeptBy { get; }

        public string Reason { get; }

        /// <summary>True once the file and its sidecar are gone; false for kept backups, -WhatIf and declined confirmations.</summary>
        public bool Removed { get; }

        public static BackupRemoval FromDecision(RetentionDecision decision, bool removed) =>
            new BackupRemoval(decision.Backup, decision.Action, decision.KeptBy, decision.Reason, removed);

        /// <summary>A backup removed because it was asked for by name (piped in), not by a retention policy.</summary>
        public static BackupRemoval Requested(RdbBackup backup, bool removed) =>
            new BackupRemoval(backup, RetentionAction.Delete, RetentionRules.None, "requested", removed);
    }
}
