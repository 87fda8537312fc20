using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Resp;

namespace RedisRecovery.Restore
{
    public enum RestoreMode
    {
        /// <summary>Write into the running server with pipelined RESTORE (or plain commands when it cannot take a payload).</summary>
        Online,

        /// <summary>Stop the server, put the RDB in place of its dump file, start it again (files reachable from this host).</summary>
        FileSwap,
    }

    /// <summary>What to do about keys that already exist in the target.</summary>
    public enum KeyConflictPolicy
    {
        /// <summary>Refuse to write into a target that holds keys (checked before anything is written) unless forced.</summary>
        Fail,

        /// <summary>Keep the target's key and count the source key as skipped.</summary>
        Skip,

        /// <summary>Overwrite the target's key.</summary>
        Replace,
    }

    /// <summary>What the source of a restore is; <see cref="Auto"/> looks at the path.</summary>
    public enum RestoreSourceKind
    {
        Auto,
        Rdb,
        Aof,
    }

    /// <summary>Everything a restore needs to know; <see cref="RedisRestorer.RestoreAsync"/> checks it before it starts.</summary>
    public sealed class RestoreOptions
    {
        public RestoreOptions(string sourcePath, RedisConnectionOptions target)
        {
            SourcePath = sourcePath ?? throw new ArgumentNullException(nameof(sourcePath));
            Target = target ?? throw new ArgumentNullException(nameof(target));
        }

        /// <summary>An RDB file, a single-file AOF, or a multi-part AOF directory (or its manifest).</summary>
        public string SourcePath { get; }

        /// <summary>
        /// Set when <see cref="SourcePath"/> is a verified temporary copy of a backup held elsewhere (an S3 object, a
        /// decrypted file): the result, error messages and the journal name that backup, not the copy, so a restore
        /// interrupted mid-way resumes from a new copy of the same backup.
        /// </summary>
        public RestoreSourceOrigin? Origin { get; init; }

        /// <summary>How results and errors name the source.</summary>
        internal string SourceName => Origin?.Name ?? Path.GetFullPath(SourcePath);

        /// <summary>What a journal checks it was written for: the same backup, however it reached this machine.</summary>
        internal string SourceIdentity => Origin is { } origin
            ? FormattableString.Invariant($"{origin.Name}|sha256:{origin.Sha256}")
            : RestoreJournal.IdentityOf(SourcePath);

        public RestoreSourceKind SourceKind { get; init; }

        public RedisConnectionOptions Target { get; }

        public RestoreMode Mode { get; init; }

        public KeyConflictPolicy KeyConflict { get; init; }

        /// <summary>With <see cref="KeyConflictPolicy.Fail"/>: write even though the target holds keys.</summary>
        public bool Force { get; init; }

        /// <summary>Empty the target databases first (FLUSHDB of the mapped database, or FLUSHALL).</summary>
        public bool FlushTarget { get; init; }

        /// <summary>Restore only this source database.</summary>
        public int? Database { get; init; }

        /// <summary>Write into this database (the one chosen by <see cref="Database"/>, or every source database).</summary>
        public int? TargetDatabase { get; init; }

        /// <summary>Restore only keys matching this glob (Redis MATCH syntax: * ? [abc] [^a] [a-z] \x). RDB sources only.</summary>
        public string? KeyPattern { get; init; }

        /// <summary>At most this many keys or commands per second, a batch counting as its keys (0 or null: as fast as the server takes them).</summary>
        public int? MaxOpsPerSecond { get; init; }

        /// <summary>A file that records progress; a restore interrupted mid-way continues from it when run again.</summary>
        public string? JournalPath { get; init; }

        /// <summary>AOF sources: apply only what was written at or before this time ("#TS:" annotations).</summary>
        public DateTimeOffset? ToTimestamp { get; init; }

        /// <summary>AOF sources: stop just before the first FLUSHALL or FLUSHDB (an accident to undo).</summary>
        public string? BeforeCommand { get; init; }

        /// <summary>Compare per-database key counts afterwards and take DEBUG DIGEST when the target started empty.</summary>
        public bool Verify { get; init; } = true;

        /// <summary>
        /// Verify by key counts only: DEBUG DIGEST walks the whole dataset in one call that blocks the server (seconds per
        /// million keys), which a large restore into a server about to take traffic may not afford. The source's digest
        /// (computed from the file to compare with it) is skipped too.
        /// </summary>
        public bool SkipDigest { get; init; }

        /// <summary>Values whose serialized form is larger than this are streamed from the source to the target instead
        /// of being held in memory (the reader's <see cref="Rdb.RdbReaderOptions.LargeValueThreshold"/>).</summary>
        public int LargeValueThreshold { get; init; } = 8 * 1024 * 1024;

        /// <summary>When set, the target's DEBUG DIGEST after the restore must equal it (40 hex digits) instead of the
        /// digest computed from the source.</summary>
        public string? ExpectedDigest { get; init; }

        /// <summary>The moment keys are judged expired; default the time the restore starts.</summary>
        public DateTimeOffset? Now { get; init; }

        /// <summary>Most bytes of commands awaiting replies; default the connection's MaxInFlightBytes.</summary>
        public long? MaxInFlightBytes { get; init; }

        /// <summary>FileSwap: how to stop the server; default SHUTDOWN NOSAVE over the connection.</summary>
        public Func<CancellationToken, Task>? StopServer { get; init; }

        /// <summary>FileSwap: how to start the server again (a service start, or a process launch). Required for FileSwap.</summary>
        public Func<CancellationToken, Task>? StartServer { get; init; }

        /// <summary>FileSwap: how long to wait for the server to come back and finish loading.</summary>
        public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(10);
    }

    /// <summary>The backup a restore's local copy was made from, as the user named it, and its SHA-256.</summary>
    public sealed class RestoreSourceOrigin
    {
        public RestoreSourceOrigin(string name, string? sha256)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Sha256 = sha256;
        }

        public string Name { get; }

        public string? Sha256 { get; }
    }
}
