using System;
using System.Collections.Generic;

namespace RedisRecovery.Aof
{
    public enum AofLayout
    {
        /// <summary>One file: RESP commands, optionally after an RDB preamble (Redis before 7, or appenddirname unset).</summary>
        SingleFile,

        /// <summary>A Redis 7 appenddirname directory: a manifest, one base file and incremental files.</summary>
        MultiPart,
    }

    public enum AofStatus
    {
        Valid,

        /// <summary>The only damage is an incomplete final command (what Redis loads with aof-load-truncated yes).</summary>
        Truncated,

        /// <summary>Any other damage: Redis refuses to load it.</summary>
        Corrupt,

        /// <summary>The multi-part manifest is unreadable or names files that are not there.</summary>
        ManifestInvalid,
    }

    public enum AofFileFormat
    {
        Resp,

        /// <summary>An RDB snapshot followed (possibly) by RESP commands.</summary>
        RdbPreamble,
    }

    /// <summary>
    /// One command of an AOF, as read: where its RESP bytes are, its name and how many arguments it has, and the
    /// latest "#TS:" annotation before it. Values are never held: to replay a command, copy its bytes
    /// (<see cref="Offset"/>, <see cref="Length"/>) from <see cref="File"/>, which are already the RESP a server takes.
    /// </summary>
    public readonly struct AofCommand
    {
        public AofCommand(int partIndex, string file, long offset, long length, long cutOffset, string name, long argumentCount, DateTimeOffset? timestamp, bool inTransaction)
        {
            PartIndex = partIndex;
            File = file;
            Offset = offset;
            Length = length;
            CutOffset = cutOffset;
            Name = name;
            ArgumentCount = argumentCount;
            Timestamp = timestamp;
            InTransaction = inTransaction;
        }

        /// <summary>Index of the file in load order (0 for a single-file AOF).</summary>
        public int PartIndex { get; }

        /// <summary>File name (without directory).</summary>
        public string File { get; }

        public long Offset { get; }

        public long Length { get; }

        /// <summary>
        /// Where to cut the file to drop this command and everything after it while keeping the rest loadable: the
        /// start of its MULTI when it is inside a transaction, else the start of the annotations just before it.
        /// </summary>
        public long CutOffset { get; }

        /// <summary>Upper-case command name, or "(unreadable)" when the first argument is not a plausible name.</summary>
        public string Name { get; }

        public long ArgumentCount { get; }

        /// <summary>The latest "#TS:" annotation read before this command (UTC), null when there was none yet.</summary>
        public DateTimeOffset? Timestamp { get; }

        /// <summary>Between a MULTI and its EXEC (both included): apply these together or not at all.</summary>
        public bool InTransaction { get; }
    }

    /// <summary>What reading one file of an AOF found.</summary>
    public sealed class AofFileCheck
    {
        public string FileName { get; init; } = "";

        public string FullPath { get; init; } = "";

        /// <summary>Null for a single-file AOF.</summary>
        public AofFileType? Type { get; init; }

        public AofFileFormat Format { get; internal set; }

        public long Length { get; init; }

        public AofStatus Status { get; internal set; }

        /// <summary>False when an earlier file was damaged and this one was not read.</summary>
        public bool Read { get; internal set; }

        /// <summary>End of the RDB preamble (its EOF opcode and checksum); null for a RESP-only file.</summary>
        public long? PreambleEndOffset { get; internal set; }

        /// <summary>Keys in the RDB preamble (they are not commands); null for a RESP-only file.</summary>
        public long? PreambleKeys { get; internal set; }

        /// <summary>End of the last complete command or annotation outside a transaction.</summary>
        public long ValidUpToOffset { get; internal set; }

        /// <summary>Complete commands up to <see cref="ValidUpToOffset"/>.</summary>
        public long Commands { get; internal set; }

        public long? ErrorOffset { get; internal set; }

        public string? Error { get; internal set; }
    }

    /// <summary>The verdict on a whole AOF (a file or a multi-part directory), as Test-AofFile reports it.</summary>
    public sealed class AofCheckResult
    {
        public string Path { get; init; } = "";

        public AofLayout Layout { get; init; }

        public AofStatus Status { get; internal set; }

        /// <summary>Complete commands that Redis would apply (those in an unfinished MULTI are not counted).</summary>
        public long Commands { get; internal set; }

        /// <summary>Complete commands by upper-case name.</summary>
        public IReadOnlyDictionary<string, long> CommandCounts { get; internal set; } = new Dictionary<string, long>();

        public DateTime? FirstTimestampUtc { get; internal set; }

        public DateTime? LastTimestampUtc { get; internal set; }

        /// <summary>The file in which the valid part ends (the damaged file, else the last one).</summary>
        public string? ValidUpToFile { get; internal set; }

        public long ValidUpToOffset { get; internal set; }

        public string? ErrorFile { get; internal set; }

        public long? ErrorOffset { get; internal set; }

        public string? Error { get; internal set; }

        /// <summary>Multi-part: the manifest file; null for a single file.</summary>
        public string? ManifestPath { get; internal set; }

        /// <summary>Multi-part: AOF-looking files in the directory that the manifest does not list (Redis ignores them).</summary>
        public IReadOnlyList<string> UnlistedFiles { get; internal set; } = Array.Empty<string>();

        public IReadOnlyList<AofFileCheck> Files { get; internal set; } = Array.Empty<AofFileCheck>();

        /// <summary>The failure to report for an AOF Redis refuses to load (Corrupt, ManifestInvalid); null otherwise.</summary>
        public RedisRecoveryException? ToException() => Status switch
        {
            AofStatus.Corrupt => new CorruptDataException(ErrorFile ?? Path, ErrorOffset ?? 0, Error ?? "damaged"),
            AofStatus.ManifestInvalid => new AofManifestException(ManifestPath ?? Path, Error ?? "invalid manifest"),
            _ => null,
        };
    }
}
