using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Aof;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;

namespace RedisRecovery.Restore
{
    /// <summary>
    /// Restores an RDB or AOF into a Redis server: online (pipelined into the running server) or by swapping the
    /// server's files while it is stopped. Checks the options and the target before writing anything, and verifies
    /// the target afterwards.
    /// </summary>
    public static class RedisRestorer
    {
        public static async Task<RestoreResult> RestoreAsync(RestoreOptions options, IProgress<OperationProgress>? progress = null,
            IOperationLog? log = null, CancellationToken cancellationToken = default)
        {
            log ??= NullOperationLog.Instance;
            var kind = Validate(options);
            if (options.Mode == RestoreMode.FileSwap)
            {
                return await FileSwapRestore.RunAsync(options, progress, log, cancellationToken).ConfigureAwait(false);
            }
            var result = NewResult(options, kind);
            var watch = Stopwatch.StartNew();
            var now = options.Now ?? DateTimeOffset.UtcNow;
            var connection = WithInFlightLimit(options);
            await using var target = await RestoreTarget.ConnectAsync(connection, options.MaxOpsPerSecond, cancellationToken).ConfigureAwait(false);
            var journal = options.JournalPath is { } journalPath
                ? RestoreJournal.Open(journalPath, options.SourceIdentity, target.Address)
                : null;
            var targetDatabases = TargetDatabases(options);
            var before = await target.KeyspaceAsync(cancellationToken).ConfigureAwait(false);
            if (journal?.IsResume == true)
            {
                result.ResumedFromOffset = journal.NextOffset;
                result.KeysRestored = journal.KeysRestored;
                result.CommandsReplayed = journal.CommandsReplayed;
                log.Verbose($"Resuming the restore recorded in {options.JournalPath}: continuing from part {journal.NextPart} byte {journal.NextOffset} ({journal.KeysRestored} keys restored before).");
            }
            else if (options.FlushTarget)
            {
                await FlushAsync(target, targetDatabases, log, cancellationToken).ConfigureAwait(false);
                before = await target.KeyspaceAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (options.KeyConflict == KeyConflictPolicy.Fail && !options.Force && Occupied(before, targetDatabases) is { Count: > 0 } occupied)
            {
                result.WroteNothing = true;
                result.StopReason = $"The target already holds keys ({RestoreResult.FormatCounts(occupied)}) and KeyConflict is Fail: nothing was written. " +
                    "Use -FlushTarget to empty it first, -KeyConflict Skip or Replace, or -Force.";
                result.Duration = watch.Elapsed;
                return result;
            }
            var startedEmpty = journal?.IsResume == true ? journal.TargetStartedEmpty : Occupied(before, targetDatabases).Count == 0;
            if (journal?.IsResume == false)
            {
                // From the first write on, a rerun must find the journal: otherwise it would meet its own keys as conflicts.
                journal.TargetStartedEmpty = startedEmpty;
                journal.Checkpoint(0, 0, 0, 0);
            }
            if (journal?.IsResume == true && startedEmpty)
            {
                // What is in the target now came from the interrupted run: compare against the whole source.
                before = new Dictionary<int, long>();
            }
            var session = new OnlineRestore(options, target, result, journal, progress, log, now)
            {
                CheckExistingOnCommandPath = !startedEmpty || journal?.IsResume == true,
            };
            try
            {
                if (kind == RestoreSourceKind.Rdb)
                {
                    using var reader = OpenRdb(options.SourcePath, options.SourceName, options.LargeValueThreshold);
                    await session.RestoreRdbAsync(reader, 0, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await ReplayAofAsync(options, session, log, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                result.StopReason = "Cancelled: the counts say how far the restore got" + (journal != null ? "; run it again with the same journal to continue." : ".");
                result.Duration = watch.Elapsed;
                return result;
            }
            catch (RedisRecoveryException exception) when (exception is RedisConnectionException or RedisProtocolException)
            {
                // A connection that closes in the middle of a reply surfaces as a protocol error: either way the link is gone.
                session.RecordInterruption();
                result.StopReason = "The connection to the target failed: " + exception.Message;
                result.Duration = watch.Elapsed;
                throw new RestoreInterruptedException(result,
                    $"The restore into {target.Address} stopped after {result.KeysRestored} keys and {result.CommandsReplayed} commands: {exception.Message}" +
                    (journal != null ? $" Run it again with -Journal {options.JournalPath} to continue from the last checkpoint." : " Run it again with a journal to make it resumable."),
                    exception);
            }
            journal?.Complete(result.KeysRestored, result.CommandsReplayed);
            result.Completed = true;
            if (options.Verify)
            {
                var verifying = Stopwatch.StartNew();
                await VerifyAsync(options, target, result, before, session.Written, startedEmpty, now, cancellationToken).ConfigureAwait(false);
                result.VerificationDuration = verifying.Elapsed;
            }
            result.Duration = watch.Elapsed;
            return result;
        }

        /// <summary>The steps a FileSwap restore would take against the target (it only reads the target's configuration).</summary>
        public static Task<FileSwapPlan> PlanFileSwapAsync(RestoreOptions options, CancellationToken cancellationToken = default)
        {
            Validate(options);
            return FileSwapRestore.PlanAsync(options, cancellationToken);
        }

        /// <summary>Rdb or Aof, by the path: a directory or *.manifest is a multi-part AOF; a file by its first bytes and name.</summary>
        public static RestoreSourceKind DetectSourceKind(string path)
        {
            if (Directory.Exists(path) || path.EndsWith(AofManifest.Suffix, StringComparison.OrdinalIgnoreCase))
            {
                return RestoreSourceKind.Aof;
            }
            if (!File.Exists(path))
            {
                throw new RedisRecoveryException(RestoreErrorIds.SourceNotFound, FailureKind.NotFound, $"{path}: no such RDB file, AOF file or AOF directory.") { Target = path };
            }
            var head = new byte[5];
            using (var stream = File.OpenRead(path))
            {
                var read = stream.Read(head, 0, head.Length);
                if (read < 5)
                {
                    return path.EndsWith(".aof", StringComparison.OrdinalIgnoreCase) ? RestoreSourceKind.Aof : RestoreSourceKind.Rdb;
                }
            }
            var text = Encoding.ASCII.GetString(head);
            var isRdb = text == "REDIS" || text == "VALKE";
            return isRdb && !path.EndsWith(".aof", StringComparison.OrdinalIgnoreCase) ? RestoreSourceKind.Rdb
                : isRdb || head[0] == (byte)'*' || head[0] == (byte)'#' ? RestoreSourceKind.Aof
                : RestoreSourceKind.Rdb;
        }

        /// <summary>The file is read front to back once: large reads mean fewer system calls per key (measured with bench/restore.sh).</summary>
        private const int ReadBufferSize = 1024 * 1024;

        internal static RdbReader OpenRdb(string path, string sourceName, int largeValueThreshold) =>
            new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan),
                new RdbReaderOptions { SourceName = sourceName, BaseOffset = 0, LargeValueThreshold = largeValueThreshold, BufferSize = ReadBufferSize });

        internal static RestoreResult NewResult(RestoreOptions options, RestoreSourceKind kind) => new()
        {
            Source = options.SourceName,
            Target = options.Target.Endpoint.ToString(),
            Mode = options.Mode,
            SourceKind = kind,
        };

        private static RestoreSourceKind Validate(RestoreOptions options)
        {
            RedisRecoveryException Invalid(string message) => new(RestoreErrorIds.InvalidOptions, FailureKind.InvalidArgument, message) { Target = options.SourceName };
            var kind = options.SourceKind == RestoreSourceKind.Auto ? DetectSourceKind(options.SourcePath) : options.SourceKind;
            if ((options.ToTimestamp != null || options.BeforeCommand != null) && kind != RestoreSourceKind.Aof)
            {
                throw Invalid("-ToTimestamp and -BeforeCommand choose a point in time inside an AOF; the source is an RDB, which has only one.");
            }
            if (options.KeyPattern != null && kind != RestoreSourceKind.Rdb)
            {
                throw Invalid("-KeyPattern filters the keys of an RDB; an AOF is replayed command by command.");
            }
            if (options.Mode == RestoreMode.FileSwap)
            {
                if (kind != RestoreSourceKind.Rdb)
                {
                    throw Invalid("FileSwap places an RDB file as the server's dump file; for an AOF source use the Online mode.");
                }
                if (options.KeyPattern != null || options.Database != null || options.TargetDatabase != null || options.JournalPath != null || options.MaxOpsPerSecond != null)
                {
                    throw Invalid("FileSwap restores the whole file as it is: -KeyPattern, -Database, -TargetDatabase, -Journal and -MaxOpsPerSecond apply to Online restores only.");
                }
                if (options.StartServer is null)
                {
                    throw Invalid("FileSwap needs a way to start the server again (-StartCommand).");
                }
            }
            if (options.Database is < 0 || options.TargetDatabase is < 0)
            {
                throw Invalid("Database numbers are 0 or more.");
            }
            if (options.ExpectedDigest is { } digest && (digest.Length != 40 || !digest.All(Uri.IsHexDigit)))
            {
                throw Invalid("An expected digest is 40 hexadecimal digits (DEBUG DIGEST).");
            }
            return kind;
        }

        private static RedisConnectionOptions WithInFlightLimit(RestoreOptions options)
        {
            if (options.MaxInFlightBytes is long limit)
            {
                options.Target.MaxInFlightBytes = limit;
            }
            return options.Target;
        }

        /// <summary>The target databases the restore may write: one when mapped or filtered, else all (null).</summary>
        private static int? TargetDatabases(RestoreOptions options) => options.TargetDatabase ?? options.Database;

        /// <summary>For an RDB source, the database each restored key lands in (null for a key the restore leaves out);
        /// null for an AOF source.</summary>
        private static Func<RdbEntry, int?>? RestoredDatabaseOf(RestoreOptions options, RestoreSourceKind kind, DateTimeOffset now)
        {
            if (kind != RestoreSourceKind.Rdb)
            {
                return null;
            }
            var glob = options.KeyPattern is { } pattern ? new KeyGlob(pattern) : null;
            var nowMs = now.ToUnixTimeMilliseconds();
            // The restore skips a key expiring at this very millisecond too (a loading server keeps it).
            return entry => (options.Database is not int only || entry.Database == only) && (glob == null || glob.IsMatch(entry.Key))
                && !(entry.ExpiresAtMs is long expiry && expiry <= nowMs)
                ? options.TargetDatabase ?? entry.Database
                : null;
        }

        private static Dictionary<int, long> Occupied(Dictionary<int, long> keyspace, int? database) =>
            keyspace.Where(p => p.Value > 0 && (database is null || p.Key == database)).ToDictionary(p => p.Key, p => p.Value);

        private static async Task FlushAsync(RestoreTarget target, int? database, IOperationLog log, CancellationToken cancellationToken)
        {
            if (database is int only)
            {
                log.Verbose($"Emptying database {only} of {target.Address} (FLUSHDB).");
                await target.ExecuteAsync(new RedisCommand("SELECT", only), cancellationToken).ConfigureAwait(false);
                await target.ExecuteAsync(new RedisCommand("FLUSHDB"), cancellationToken).ConfigureAwait(false);
                target.SelectedBy(only);
            }
            else
            {
                log.Verbose($"Emptying every database of {target.Address} (FLUSHALL).");
                await target.ExecuteAsync(new RedisCommand("FLUSHALL"), cancellationToken).ConfigureAwait(false);
            }
        }

        private static async Task ReplayAofAsync(RestoreOptions options, OnlineRestore session, IOperationLog log, CancellationToken cancellationToken)
        {
            var plan = await AofRepairer.PlanAsync(options.SourcePath, new AofRepairRequest { ToTimestamp = options.ToTimestamp, BeforeCommand = options.BeforeCommand }, cancellationToken).ConfigureAwait(false);
            if (plan.Action == AofRepairAction.CutAtCorruption && !options.Force)
            {
                throw new RedisRecoveryException(RestoreErrorIds.AofDamaged, FailureKind.CorruptData,
                    $"{plan.Reason}. Redis would refuse to load this AOF. Repair it first (Repair-AofFile), or use -Force to replay the {plan.CommandsKept} commands before the damage.")
                {
                    Target = plan.Path,
                };
            }
            log.Verbose(plan.Describe());
            var (stopPart, stopOffset) = plan.Action == AofRepairAction.None ? (int.MaxValue, long.MaxValue) : (plan.CutFileIndex, plan.CutOffset);
            var reader = await AofReader.OpenAsync(options.SourcePath, cancellationToken).ConfigureAwait(false);
            var first = reader.Files[0];
            if (StartsWithRdb(first.FullPath))
            {
                using var preamble = OpenRdb(first.FullPath, first.FullPath, options.LargeValueThreshold);
                await session.RestoreRdbAsync(preamble, 0, cancellationToken).ConfigureAwait(false);
            }
            await session.ReplayAofAsync(reader, stopPart, stopOffset, cancellationToken).ConfigureAwait(false);
        }

        private static bool StartsWithRdb(string path)
        {
            var head = new byte[5];
            using var stream = File.OpenRead(path);
            return stream.Read(head, 0, 5) == 5 && Encoding.ASCII.GetString(head) == "REDIS";
        }

        private static async Task VerifyAsync(RestoreOptions options, RestoreTarget target, RestoreResult result, Dictionary<int, long> before,
            IReadOnlyDictionary<int, long> written, bool startedEmpty, DateTimeOffset now, CancellationToken cancellationToken)
        {
            var after = await target.KeyspaceAsync(cancellationToken).ConfigureAwait(false);
            result.TargetKeysPerDatabase = after;
            var details = new List<string>();
            bool? verified = null;
            if (result.SourceKind == RestoreSourceKind.Rdb)
            {
                var expected = written.Where(p => p.Value != 0 || after.ContainsKey(p.Key)).ToDictionary(p => p.Key, p => p.Value);
                var comparable = expected.Keys.Where(db => !before.ContainsKey(db)).ToList();
                var mismatches = comparable.Where(db => (after.TryGetValue(db, out var n) ? n : 0) != expected[db]).ToList();
                if (comparable.Count > 0 || expected.Count == 0)
                {
                    verified = mismatches.Count == 0;
                    details.Add(mismatches.Count == 0
                        ? $"key counts match ({RestoreResult.FormatCounts(expected.Where(p => comparable.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value))})"
                        : "key counts differ: " + string.Join(", ", mismatches.Select(db => $"db{db} expected {expected[db]}, target has {(after.TryGetValue(db, out var n) ? n : 0)}")));
                }
                var notComparable = expected.Keys.Except(comparable).ToList();
                if (notComparable.Count > 0)
                {
                    details.Add("not compared (the target database held keys before): " + string.Join(", ", notComparable.Select(db => $"db{db}")));
                }
            }
            else
            {
                details.Add($"replayed {result.CommandsReplayed} commands, {result.CommandsFailed} refused; target holds {RestoreResult.FormatCounts(after)}");
                if (result.CommandsFailed > 0)
                {
                    verified = false;
                }
            }
            if (startedEmpty && options.SkipDigest)
            {
                details.Add("DEBUG DIGEST skipped (-SkipDigest)");
            }
            else if (startedEmpty && before.Values.Any(keys => keys > 0))
            {
                // The restored databases started empty, so these keys are in others.
                details.Add("digest not compared: other databases of the target held keys before, and DEBUG DIGEST covers them all");
            }
            else if (startedEmpty)
            {
                var (same, detail) = await DigestVerification.CompareAsync(options, target, result, RestoredDatabaseOf(options, result.SourceKind, now), now, cancellationToken)
                    .ConfigureAwait(false);
                if (same is bool digestSame)
                {
                    verified = digestSame && verified != false;
                }
                details.Add(detail);
            }
            if (result.KeysFailedCount > 0)
            {
                verified = false;
                details.Add($"{result.KeysFailedCount} keys failed");
            }
            result.Verified = verified;
            result.VerificationDetail = string.Join("; ", details);
        }
    }
}
