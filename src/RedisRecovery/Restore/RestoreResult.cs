using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace RedisRecovery.Restore
{
    /// <summary>Source keys that were not written, by reason.</summary>
    public sealed class RestoreSkipCounts
    {
        /// <summary>Already expired when the restore ran.</summary>
        public long Expired { get; internal set; }

        /// <summary>The target already had the key (KeyConflict Skip).</summary>
        public long Conflict { get; internal set; }

        /// <summary>Left out by -Database or -KeyPattern.</summary>
        public long Filtered { get; internal set; }

        /// <summary>Empty collections, which Redis never keeps (it drops them when loading too).</summary>
        public long Empty { get; internal set; }

        public long Total => Expired + Conflict + Filtered + Empty;

        public override string ToString() => Total == 0
            ? "0"
            : FormattableString.Invariant($"{Total} (expired {Expired}, conflict {Conflict}, filtered {Filtered}, empty {Empty})");
    }

    /// <summary>A key the restore could not write, and why (never its value).</summary>
    public sealed record RestoreKeyFailure(int Database, string Key, string Reason)
    {
        public override string ToString() => $"db{Database} {Key}: {Reason}";
    }

    /// <summary>What a restore applied, skipped and failed, and how the target compared afterwards.</summary>
    public sealed class RestoreResult
    {
        /// <summary>At most this many failed keys and command-path keys are listed (all are counted).</summary>
        public const int ListedKeysLimit = 1000;

        private readonly List<RestoreKeyFailure> _failed = new();
        private readonly List<string> _viaCommands = new();

        public string Source { get; internal set; } = string.Empty;

        public string Target { get; internal set; } = string.Empty;

        public RestoreMode Mode { get; internal set; }

        /// <summary>Rdb or Aof.</summary>
        public RestoreSourceKind SourceKind { get; internal set; }

        /// <summary>False when the restore stopped early (a pre-check, cancellation, a dropped connection).</summary>
        public bool Completed { get; internal set; }

        /// <summary>Nothing was written to the target (a pre-check refused, or -WhatIf).</summary>
        public bool WroteNothing { get; internal set; }

        /// <summary>Why the restore stopped before the end, when it did.</summary>
        public string? StopReason { get; internal set; }

        /// <summary>Keys written (by RESTORE or by commands).</summary>
        public long KeysRestored { get; internal set; }

        public RestoreSkipCounts KeysSkipped { get; } = new();

        /// <summary>Keys that could not be written (listed up to <see cref="ListedKeysLimit"/>; see <see cref="KeysFailedCount"/>).</summary>
        public IReadOnlyList<RestoreKeyFailure> KeysFailed => _failed;

        public long KeysFailedCount { get; private set; }

        /// <summary>Keys rebuilt from plain commands because the target could not take their payload.</summary>
        public IReadOnlyList<string> KeysViaCommands => _viaCommands;

        public long KeysViaCommandsCount { get; private set; }

        /// <summary>AOF sources: commands replayed (MULTI/EXEC counted with what they enclose).</summary>
        public long CommandsReplayed { get; internal set; }

        /// <summary>AOF sources: commands the target refused (their errors are in <see cref="KeysFailed"/> under "(command)").</summary>
        public long CommandsFailed { get; internal set; }

        /// <summary>Function libraries loaded with FUNCTION LOAD (Redis 7+ sources).</summary>
        public int FunctionLibrariesRestored { get; internal set; }

        /// <summary>Function libraries the target refused (an existing library of the same name, or no FUNCTION command).</summary>
        public int FunctionLibrariesFailed { get; internal set; }

        /// <summary>Source bytes read.</summary>
        public long Bytes { get; internal set; }

        public TimeSpan Duration { get; internal set; }

        public double KeysPerSecond => Duration.TotalSeconds > 0 ? Math.Round(KeysRestored / Duration.TotalSeconds, 1) : 0;

        /// <summary>The restore continued an interrupted one recorded in the journal, from this source offset.</summary>
        public long? ResumedFromOffset { get; internal set; }

        /// <summary>True when verification ran and everything matched; false when it found a difference; null when not verified.</summary>
        public bool? Verified { get; internal set; }

        public string? VerificationDetail { get; internal set; }

        /// <summary>Part of <see cref="Duration"/> spent verifying (DEBUG DIGEST walks the whole dataset).</summary>
        public TimeSpan VerificationDuration { get; internal set; }

        /// <summary>Part of <see cref="VerificationDuration"/> spent in DEBUG DIGEST (the server is blocked meanwhile).</summary>
        public TimeSpan DigestDuration { get; internal set; }

        /// <summary>DEBUG DIGEST of the target after the restore, when it was taken.</summary>
        public string? TargetDigest { get; internal set; }

        /// <summary>The digest Redis 7.0 would report for the restored keys of an RDB source, computed from the file
        /// alongside the target's DEBUG DIGEST; null when not computed or unknown (VerificationDetail says why).</summary>
        public string? SourceDigest { get; internal set; }

        /// <summary>Time spent computing <see cref="SourceDigest"/> (it overlaps <see cref="DigestDuration"/>).</summary>
        public TimeSpan SourceDigestDuration { get; internal set; }

        /// <summary>Keys per target database after the restore.</summary>
        public IReadOnlyDictionary<int, long> TargetKeysPerDatabase { get; internal set; } = new Dictionary<int, long>();

        /// <summary>FileSwap: the files moved aside (where the server's previous data now is).</summary>
        public IReadOnlyList<string> MovedAsideFiles { get; internal set; } = Array.Empty<string>();

        internal void AddFailure(int database, string key, string reason)
        {
            KeysFailedCount++;
            if (_failed.Count < ListedKeysLimit)
            {
                _failed.Add(new RestoreKeyFailure(database, key, reason));
            }
        }

        internal void AddViaCommands(int database, string key)
        {
            KeysViaCommandsCount++;
            if (_viaCommands.Count < ListedKeysLimit)
            {
                _viaCommands.Add(database == 0 ? key : $"db{database.ToString(CultureInfo.InvariantCulture)}:{key}");
            }
        }

        public override string ToString() =>
            $"{Source} -> {Target}: {KeysRestored} restored, {KeysSkipped.Total} skipped, {KeysFailedCount} failed" +
            (Verified is bool verified ? verified ? ", verified" : ", verification FAILED" : string.Empty);

        internal static string FormatCounts(IReadOnlyDictionary<int, long> counts) => counts.Count == 0
            ? "empty"
            : string.Join(";", counts.OrderBy(p => p.Key).Select(p => FormattableString.Invariant($"{p.Key}={p.Value}")));
    }

    /// <summary>The stable ErrorIds of restores.</summary>
    public static class RestoreErrorIds
    {
        public const string TargetNotEmpty = "RestoreTargetNotEmpty";
        public const string Interrupted = "RestoreInterrupted";
        public const string InvalidOptions = "RestoreInvalidOptions";
        public const string SourceNotFound = "RestoreSourceNotFound";
        public const string AofDamaged = "RestoreAofDamaged";
        public const string JournalMismatch = "RestoreJournalMismatch";
        public const string FileSwapFailed = "RestoreFileSwapFailed";
        public const string VerificationFailed = "RestoreVerificationFailed";
    }

    /// <summary>
    /// A restore that stopped part-way because the connection failed. <see cref="PartialResult"/> says how far it got;
    /// with a journal, running the same restore again continues from there.
    /// </summary>
    public sealed class RestoreInterruptedException : RedisRecoveryException
    {
        public RestoreInterruptedException(RestoreResult partialResult, string message, Exception innerException)
            : base(RestoreErrorIds.Interrupted, FailureKind.ConnectionFailed, message, innerException)
        {
            PartialResult = partialResult;
            Target = partialResult.Target;
        }

        public RestoreResult PartialResult { get; }
    }
}
