using System;
using System.Collections.Generic;
using System.Linq;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// One backup as users see it: where it is, what it is a copy of, the facts to verify it by, and whether its
    /// file and sidecar are whole (<see cref="Status"/>). Cmdlets that consume backups bind to these property names
    /// (Path above all), so they are part of the module's contract.
    /// </summary>
    public sealed class RdbBackup
    {
        /// <summary>Full location of the backup file: a local path or s3://bucket/key.</summary>
        public string Path { get; init; } = string.Empty;

        /// <summary>The backup series (by default the server's host-port).</summary>
        public string Name { get; init; } = string.Empty;

        /// <summary>The object name inside <see cref="Store"/>: &lt;name&gt;_&lt;yyyyMMddTHHmmssZ&gt;.rdb.</summary>
        public string FileName { get; init; } = string.Empty;

        /// <summary>Where the backup lives, as typed by a user: a directory or s3://bucket/prefix.</summary>
        public string Store { get; init; } = string.Empty;

        /// <summary>host:port of the source; null when the sidecar is missing or unreadable.</summary>
        public string? Endpoint { get; init; }

        /// <summary>The method actually used; null when the sidecar is missing or unreadable.</summary>
        public BackupMethod? Method { get; init; }

        /// <summary>Why <see cref="Method"/> was used (a fallback's reason); known only on the result of the backup itself.</summary>
        public string? MethodDetail { get; init; }

        /// <summary>When the backup was taken (UTC): from the sidecar, or from the file name without one.</summary>
        public DateTime CreatedUtc { get; init; }

        /// <summary>The size the sidecar recorded, or the file's size when there is no readable sidecar.</summary>
        public long? SizeBytes { get; init; }

        public string? Sha256 { get; init; }

        public int? RdbVersion { get; init; }

        public string? RedisVersion { get; init; }

        public IReadOnlyDictionary<int, long>? KeysPerDatabase { get; init; }

        /// <summary>Total keys over all databases, from the sidecar.</summary>
        public long? KeyCount => KeysPerDatabase?.Values.Sum();

        /// <summary>False for a logical copy, whose keys were read at different moments.</summary>
        public bool? PointInTime { get; init; }

        public bool Encrypted { get; init; }

        public BackupStatus Status { get; init; }

        /// <summary>Why the status is not Ok, in words; null when it is.</summary>
        public string? StatusDetail { get; init; }

        /// <summary>Full location of the sidecar file.</summary>
        public string SidecarPath { get; init; } = string.Empty;

        public override string ToString() => Path;

        internal static RdbBackup FromSidecar(BackupSidecar sidecar, BackupLocation location, BackupStatus status, string? statusDetail, string? methodDetail = null) => new RdbBackup
        {
            Path = location.Path,
            Name = sidecar.Name,
            FileName = location.FileName,
            Store = location.Store,
            SidecarPath = location.SidecarPath,
            Endpoint = sidecar.Endpoint,
            Method = sidecar.Method,
            MethodDetail = methodDetail,
            CreatedUtc = sidecar.CreatedUtc,
            SizeBytes = sidecar.SizeBytes,
            Sha256 = sidecar.Sha256,
            RdbVersion = sidecar.RdbVersion,
            RedisVersion = sidecar.RedisVersion,
            KeysPerDatabase = sidecar.KeysPerDatabase,
            PointInTime = sidecar.PointInTime,
            Encrypted = sidecar.Encrypted,
            Status = status,
            StatusDetail = statusDetail,
        };

        /// <summary>A backup known only by its file name (its sidecar is missing or unreadable).</summary>
        internal static RdbBackup FromFileName(string name, DateTime createdUtc, long? fileSize, BackupLocation location, BackupStatus status, string statusDetail) => new RdbBackup
        {
            Path = location.Path,
            Name = name,
            FileName = location.FileName,
            Store = location.Store,
            SidecarPath = location.SidecarPath,
            CreatedUtc = createdUtc,
            SizeBytes = fileSize,
            Status = status,
            StatusDetail = statusDetail,
        };
    }

    /// <summary>The full locations of one backup's file and sidecar in a store.</summary>
    internal sealed class BackupLocation
    {
        public BackupLocation(string store, string fileName, string path, string sidecarPath)
        {
            Store = store;
            FileName = fileName;
            Path = path;
            SidecarPath = sidecarPath;
        }

        public string Store { get; }

        public string FileName { get; }

        public string Path { get; }

        public string SidecarPath { get; }
    }
}
