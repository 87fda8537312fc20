using System;
using System.Collections.Generic;

namespace RedisRecovery.Aof
{
    public enum AofRepairAction
    {
        /// <summary>Nothing to cut: the AOF is valid and no point in time was asked for (or it lies past the end).</summary>
        None,

        /// <summary>Drop an incomplete final command (what redis-check-aof --fix does to a truncated file).</summary>
        CutTruncatedTail,

        /// <summary>Drop everything from a damaged command on: can lose most of the data, so it needs -Force.</summary>
        CutAtCorruption,

        /// <summary>Drop everything after the last "#TS:" annotation at or before a time (--truncate-to-timestamp).</summary>
        CutToTimestamp,

        /// <summary>Drop an accidental FLUSHALL/FLUSHDB and everything after it.</summary>
        CutBeforeCommand,
    }

    /// <summary>What a repair asks for beyond fixing damage: a point in time to go back to.</summary>
    public sealed class AofRepairRequest
    {
        /// <summary>Keep only what was written at or before this time (second precision, from "#TS:" annotations).</summary>
        public DateTimeOffset? ToTimestamp { get; init; }

        /// <summary>Cut just before the first command of this name (FLUSHALL or FLUSHDB).</summary>
        public string? BeforeCommand { get; init; }

        /// <summary>With <see cref="BeforeCommand"/>: only a command annotated at or after this time counts.</summary>
        public DateTimeOffset? After { get; init; }
    }

    /// <summary>
    /// A repair decided but not yet carried out: where the AOF will be cut and what that costs. Computing it reads
    /// the AOF and changes nothing, so it is what -WhatIf shows.
    /// </summary>
    public sealed class AofRepairPlan
    {
        public string Path { get; init; } = "";

        public AofLayout Layout { get; init; }

        public AofRepairAction Action { get; init; }

        /// <summary>The status the AOF had before the repair.</summary>
        public AofStatus StatusBefore { get; init; }

        /// <summary>Why the cut is where it is (damage found, annotation, command), without data bytes.</summary>
        public string Reason { get; init; } = "";

        /// <summary>The file that is cut; null when nothing is cut.</summary>
        public string? CutFile { get; init; }

        /// <summary>The cut file keeps its bytes before this offset.</summary>
        public long CutOffset { get; init; }

        /// <summary>Bytes removed: the tail of the cut file plus every later file.</summary>
        public long BytesRemoved { get; init; }

        /// <summary>Complete commands kept.</summary>
        public long CommandsKept { get; init; }

        /// <summary>Complete commands removed; for a cut at corruption only those readable before the damage are known.</summary>
        public long CommandsRemoved { get; init; }

        /// <summary>Name, file and offset of the last command kept, e.g. "SET (appendonly.aof.2.incr.aof @ 4096)".</summary>
        public string? LastCommandKept { get; init; }

        /// <summary>Multi-part: later files that the cut drops from the manifest.</summary>
        public IReadOnlyList<string> FilesDropped { get; init; } = Array.Empty<string>();

        /// <summary>True when carrying the plan out needs -Force (damage before the last file's tail, or nothing left).</summary>
        public bool RequiresForce { get; init; }

        internal IReadOnlyList<AofFileCheck> Files { get; init; } = Array.Empty<AofFileCheck>();

        internal AofManifest? Manifest { get; init; }

        internal int CutFileIndex { get; init; }

        /// <summary>Where a copy goes when no destination is named: beside the AOF (its directory, when multi-part), with a UTC time suffix.</summary>
        public string DefaultCopyPath(DateTime utcNow)
        {
            var original = Manifest?.Directory ?? Path;
            return original.TrimEnd(System.IO.Path.DirectorySeparatorChar) + ".pit-" + utcNow.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        }

        public string Describe() => Action == AofRepairAction.None
            ? $"{Path}: nothing to cut ({Reason})"
            : $"{Path}: {Reason}; cut {CutFile} at byte {CutOffset}" +
              (FilesDropped.Count > 0 ? $" and drop {string.Join(", ", FilesDropped)}" : "") +
              (Action == AofRepairAction.CutAtCorruption
                  ? $", removing {BytesRemoved} bytes (the commands past the damage cannot be counted), keeping {CommandsKept} commands"
                  : $", removing {BytesRemoved} bytes and {CommandsRemoved} complete commands, keeping {CommandsKept} commands") +
              (LastCommandKept != null ? $" (last kept: {LastCommandKept})" : "");
    }

    /// <summary>The outcome of Repair-AofFile: the plan that was carried out and where everything is now.</summary>
    public sealed class AofRepairResult
    {
        public AofRepairResult(AofRepairPlan plan, string output, string? backupPath)
        {
            Plan = plan;
            OutputPath = output;
            BackupPath = backupPath;
        }

        public AofRepairPlan Plan { get; }

        public string Path => Plan.Path;

        public AofRepairAction Action => Plan.Action;

        public string? CutFile => Plan.CutFile;

        public long CutOffset => Plan.CutOffset;

        public long BytesRemoved => Plan.BytesRemoved;

        public long CommandsRemoved => Plan.CommandsRemoved;

        public long CommandsKept => Plan.CommandsKept;

        public string? LastCommandKept => Plan.LastCommandKept;

        public IReadOnlyList<string> FilesDropped => Plan.FilesDropped;

        /// <summary>The repaired AOF: the original path for an in-place repair, else the destination copy.</summary>
        public string OutputPath { get; }

        /// <summary>Where the original bytes were kept (in-place repairs); null for a copy or when nothing was cut.</summary>
        public string? BackupPath { get; }
    }
}
