using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Aof;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;

namespace RedisRecovery.Restore
{
    /// <summary>
    /// Writes a source into a live server over one pipelined connection: RDB entries as RESTORE (plain commands
    /// when the target cannot take the payload), AOF commands as they are stored. Replies are accounted as they
    /// arrive; at checkpoints the pipeline is drained, keys whose RESTORE was refused are rebuilt from commands,
    /// and the journal records the source position before which everything is in the target.
    /// </summary>
    internal sealed class OnlineRestore
    {
        private const int LargestRestorablePayload = 512 * 1024 * 1024;
        private const string ValueTooLargeId = "RestoreValueTooLarge";
        private const long DeferredBytesLimit = 16 * 1024 * 1024;
        private const int CheckpointEntries = 8192;
        private const int PreparedQueueCapacity = 2048;
        private static readonly RedisArgument NoExpiry = 0;
        private static readonly RedisArgument ReplaceArgument = "REPLACE";
        private static readonly RedisArgument AbsoluteTtlArgument = "ABSTTL";
        private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);
        private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

        private readonly RestoreOptions _options;
        private readonly RestoreTarget _target;
        private readonly RestoreResult _result;
        private readonly RestoreJournal? _journal;
        private readonly IProgress<OperationProgress>? _progress;
        private readonly IOperationLog _log;
        private readonly RedisPipeline<Sent> _pipeline;
        private readonly KeyGlob? _glob;
        private readonly long _nowMs;
        private readonly List<Deferred> _deferred = new();
        private readonly Dictionary<int, long> _written = new();
        private readonly Stopwatch _sinceCheckpoint = Stopwatch.StartNew();
        private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
        private long _deferredBytes;
        private int _sentSinceCheckpoint;
        private (int Part, long Offset)? _acknowledged;
        private bool _fieldTtlWarned;
        private long? _sourceLength;

        public OnlineRestore(RestoreOptions options, RestoreTarget target, RestoreResult result, RestoreJournal? journal,
            IProgress<OperationProgress>? progress, IOperationLog log, DateTimeOffset now)
        {
            _options = options;
            _target = target;
            _result = result;
            _journal = journal;
            _progress = progress;
            _log = log;
            _pipeline = target.CreatePipeline<Sent>(OnReply);
            _glob = options.KeyPattern is { } pattern ? new KeyGlob(pattern) : null;
            _nowMs = now.ToUnixTimeMilliseconds();
            // A resumed restore meets the keys it wrote before its last checkpoint: they are its own, so it replaces them.
            ReplaceExisting = options.KeyConflict == KeyConflictPolicy.Replace || (journal?.IsResume == true && options.KeyConflict == KeyConflictPolicy.Fail);
        }

        /// <summary>Keys sent per target database (minus those the target dropped as empty or kept as conflicts).</summary>
        public IReadOnlyDictionary<int, long> Written => _written;

        /// <summary>The command path checks for an existing key first unless the target is known to be free of it.</summary>
        public bool CheckExistingOnCommandPath { get; set; }

        private bool ReplaceExisting { get; }

        public int MapDatabase(int sourceDatabase) => _options.TargetDatabase ?? sourceDatabase;

        /// <summary>
        /// Restores every entry of an RDB (a file, or the preamble of an AOF's part <paramref name="part"/>). Reading and
        /// encoding (parse, copy, CRC64) run on one thread and sending on another, joined by a bounded queue, so the
        /// file and the connection are both kept busy.
        /// </summary>
        public async Task RestoreRdbAsync(RdbReader reader, int part, CancellationToken cancellationToken)
        {
            _sourceLength ??= reader.KnownEnd;
            var queue = new PreparedQueue(PreparedQueueCapacity);
            using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var producer = Task.Run(() => PrepareEntriesAsync(reader, ResumeOffsetFor(part), queue, stopReading.Token));
            try
            {
                while (await queue.TakeAsync(cancellationToken).ConfigureAwait(false) is PreparedEntry prepared)
                {
                    await SendPreparedAsync(prepared, cancellationToken).ConfigureAwait(false);
                    _result.Bytes = prepared.Position - reader.StartOffset;
                    if (prepared.Item != null)
                    {
                        await MaybeCheckpointAsync(part, prepared.Position, cancellationToken).ConfigureAwait(false);
                    }
                }
                await producer.ConfigureAwait(false);
            }
            finally
            {
                stopReading.Cancel();
                queue.Release();
                await Task.WhenAny(producer).ConfigureAwait(false);
            }
            _result.Bytes = reader.Position - reader.StartOffset;
            await CheckpointAsync(part, reader.Position, cancellationToken).ConfigureAwait(false);
            await RestoreFunctionsAsync(reader.Info.Functions, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The reading side: filters, skips what a resumed run already wrote, and builds each RESTORE command.</summary>
        private async Task PrepareEntriesAsync(RdbReader reader, long resumeOffset, PreparedQueue queue, CancellationToken cancellationToken)
        {
            try
            {
                while (await reader.ReadEntryAsync(cancellationToken).ConfigureAwait(false) is RdbEntry entry)
                {
                    var wanted = (_options.Database is not int only || entry.Database == only) && (_glob == null || _glob.IsMatch(entry.Key));
                    var expired = entry.ExpiresAtMs is long expiry && expiry <= _nowMs;
                    var database = MapDatabase(entry.Database);
                    if (entry.Offset < resumeOffset)
                    {
                        // Written by the interrupted run: it still counts towards what the target must hold.
                        if (wanted && !expired)
                        {
                            await queue.AddAsync(new PreparedEntry(database, reader.Position) { CountOnly = true }, cancellationToken).ConfigureAwait(false);
                        }
                        continue;
                    }
                    if (!wanted)
                    {
                        _result.KeysSkipped.Filtered++;
                        continue;
                    }
                    if (expired)
                    {
                        _result.KeysSkipped.Expired++;
                        continue;
                    }
                    await queue.AddAsync(await PrepareAsync(entry, database, reader.Position, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                }
                queue.Complete(null);
            }
            catch (Exception exception)
            {
                queue.Complete(exception);
            }
        }

        /// <summary>
        /// Loads the file's function libraries (Redis 7+) with FUNCTION LOAD, replacing same-named ones only when keys
        /// are replaced too. Libraries of 7.0 release candidates (one function each, no library header) cannot be loaded
        /// by a released server and are reported.
        /// </summary>
        private async Task RestoreFunctionsAsync(IReadOnlyList<RdbFunctionLibrary> libraries, CancellationToken cancellationToken)
        {
            foreach (var library in libraries)
            {
                if (library.Name != null)
                {
                    _log.Warning($"The function '{library.Name}' comes from a Redis 7.0 release candidate and cannot be loaded into a released server: it was not restored.");
                    continue;
                }
                var command = ReplaceExisting ? new RedisCommand("FUNCTION", "LOAD", "REPLACE", library.Code) : new RedisCommand("FUNCTION", "LOAD", library.Code);
                try
                {
                    await _target.ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
                    _result.FunctionLibrariesRestored++;
                }
                catch (RedisServerErrorException refused)
                {
                    _log.Warning($"{_target.Address} did not load a function library of the source: {Shorten(refused.ServerMessage)}");
                    _result.FunctionLibrariesFailed++;
                }
            }
        }

        /// <summary>
        /// Replays an AOF's commands up to <paramref name="stopPart"/>/<paramref name="stopOffset"/> (a point-in-time cut,
        /// or the end), forwarding each command's stored bytes. SELECT is tracked and re-issued with the database
        /// mapping; a MULTI is sent only once its EXEC has been read, so an unfinished transaction is never applied.
        /// </summary>
        public async Task ReplayAofAsync(AofReader reader, int stopPart, long stopOffset, CancellationToken cancellationToken)
        {
            var resumePart = _journal?.IsResume == true ? _journal.NextPart : 0;
            var resumeOffset = _journal?.IsResume == true ? _journal.NextOffset : 0;
            var transaction = new List<AofCommand>();
            var database = 0;
            var transactionDatabase = 0;
            var position = (Part: resumePart, Offset: resumeOffset);
            using var bytes = new AofCommandBytes(reader.Files);
            var partsBefore = new long[reader.Files.Count + 1];
            for (var i = 0; i < reader.Files.Count; i++)
            {
                partsBefore[i + 1] = partsBefore[i] + reader.Files[i].Length;
            }
            _sourceLength = partsBefore[reader.Files.Count];
            await foreach (var command in reader.ReadCommandsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (command.PartIndex > stopPart || (command.PartIndex == stopPart && command.Offset >= stopOffset))
                {
                    break;
                }
                if (command.Name == "MULTI")
                {
                    transactionDatabase = database;
                }
                if (command.Name == "SELECT")
                {
                    database = await bytes.ReadDatabaseAsync(command, cancellationToken).ConfigureAwait(false);
                    if (!command.InTransaction)
                    {
                        continue;
                    }
                }
                if (command.PartIndex < resumePart || (command.PartIndex == resumePart && command.Offset < resumeOffset))
                {
                    continue;
                }
                var wanted = _options.Database is not int only || (command.InTransaction ? transactionDatabase : database) == only;
                if (command.InTransaction)
                {
                    transaction.Add(command);
                    if (command.Name != "EXEC")
                    {
                        continue;
                    }
                    if (wanted)
                    {
                        await SendTransactionAsync(transaction, bytes, transactionDatabase, cancellationToken).ConfigureAwait(false);
                    }
                    transaction.Clear();
                }
                else if (wanted)
                {
                    await SendAofCommandAsync(command, bytes, database, cancellationToken).ConfigureAwait(false);
                }
                position = (command.PartIndex, command.Offset + command.Length);
                _result.Bytes = partsBefore[command.PartIndex] + position.Offset;
                await MaybeCheckpointAsync(position.Part, position.Offset, cancellationToken).ConfigureAwait(false);
            }
            await CheckpointAsync(position.Part, position.Offset, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Drains the pipeline, rebuilds deferred keys, and records the position in the journal.</summary>
        public async Task CheckpointAsync(int part, long offset, CancellationToken cancellationToken)
        {
            await _pipeline.CompleteAsync(cancellationToken).ConfigureAwait(false);
            while (_deferred.Count > 0)
            {
                var deferred = _deferred.ToArray();
                _deferred.Clear();
                _deferredBytes = 0;
                foreach (var item in deferred)
                {
                    await RebuildAsync(item, cancellationToken).ConfigureAwait(false);
                }
                await _pipeline.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            if (_journal != null && (part > _journal.NextPart || (part == _journal.NextPart && offset >= _journal.NextOffset)))
            {
                _journal.Checkpoint(part, offset, _result.KeysRestored, _result.CommandsReplayed);
            }
            _sinceCheckpoint.Restart();
            _sentSinceCheckpoint = 0;
        }

        /// <summary>
        /// After the connection failed during an AOF replay: records the last command the server confirmed, so a rerun
        /// re-applies only commands whose replies were lost (INCR-like commands are not idempotent). An RDB restore
        /// keeps its last checkpoint: keys set aside for the command path may lie before the last reply.
        /// </summary>
        public void RecordInterruption()
        {
            if (_journal != null && _result.SourceKind == RestoreSourceKind.Aof && _acknowledged is var (part, offset)
                && (part > _journal.NextPart || (part == _journal.NextPart && offset > _journal.NextOffset)))
            {
                _journal.Checkpoint(part, offset, _result.KeysRestored, _result.CommandsReplayed);
            }
        }

        private long ResumeOffsetFor(int part)
        {
            if (_journal?.IsResume != true)
            {
                return 0;
            }
            return part < _journal.NextPart ? long.MaxValue : part == _journal.NextPart ? _journal.NextOffset : 0;
        }

        private async Task MaybeCheckpointAsync(int part, long offset, CancellationToken cancellationToken)
        {
            _sentSinceCheckpoint++;
            if (_deferredBytes > DeferredBytesLimit
                || (_journal != null && (_sinceCheckpoint.Elapsed >= CheckpointInterval || _sentSinceCheckpoint >= CheckpointEntries)))
            {
                await CheckpointAsync(part, offset, cancellationToken).ConfigureAwait(false);
            }
            if (_progress != null && _sinceProgress.Elapsed >= ProgressInterval)
            {
                _sinceProgress.Restart();
                var status = _result.SourceKind == RestoreSourceKind.Aof
                    ? $"{_result.CommandsReplayed} commands replayed, {_result.KeysRestored} keys restored, {_result.Bytes} bytes read"
                    : $"{_result.KeysRestored} keys restored, {_result.KeysSkipped.Total} skipped, {_result.Bytes} bytes read";
                _progress.Report(new OperationProgress($"Restoring {_result.Source} to {_result.Target}", status, _result.Bytes, _sourceLength));
            }
        }

        private async Task<PreparedEntry> PrepareAsync(RdbEntry entry, int database, long position, CancellationToken cancellationToken)
        {
            ReadOnlyMemory<byte> value;
            try
            {
                value = await HoldValueAsync(entry, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisRecoveryException tooLarge) when (tooLarge.ErrorId == ValueTooLargeId)
            {
                return new PreparedEntry(database, position) { Failure = (entry.KeyText, tooLarge.Message) };
            }
            var item = new Deferred(database, entry.Key, entry.TypeId, value, entry.ExpiresAtMs, null);
            if (RdbFormat.MinimumVersionOf(entry.TypeId) > _target.RdbVersion)
            {
                return new PreparedEntry(database, position)
                {
                    Item = item with { Reason = $"RDB type {entry.TypeId} needs RDB version {RdbFormat.MinimumVersionOf(entry.TypeId)}, the target reads up to {_target.RdbVersion}" },
                };
            }
            var arguments = new List<RedisArgument>(8)
            {
                entry.Key,
                entry.ExpiresAtMs is long expiry ? (RedisArgument)expiry : NoExpiry,
                RdbDumpPayload.Create(entry.TypeId, value.Span),
            };
            if (ReplaceExisting)
            {
                arguments.Add(ReplaceArgument);
            }
            if (entry.ExpiresAtMs != null)
            {
                arguments.Add(AbsoluteTtlArgument);
            }
            if (entry.IdleSeconds is ulong idle)
            {
                arguments.Add("IDLETIME");
                arguments.Add((long)Math.Min(idle, long.MaxValue));
            }
            else if (entry.LfuFrequency is byte frequency)
            {
                arguments.Add("FREQ");
                arguments.Add((int)frequency);
            }
            return new PreparedEntry(database, position) { Item = item, Restore = new RedisCommand("RESTORE", arguments) };
        }

        /// <summary>The sending side: RESTORE, or a key set aside for the command path, or a count of what a resumed run wrote.</summary>
        private async Task SendPreparedAsync(PreparedEntry prepared, CancellationToken cancellationToken)
        {
            if (prepared.CountOnly)
            {
                Count(prepared.Database, +1);
                return;
            }
            if (prepared.Failure is var (key, reason))
            {
                _result.AddFailure(prepared.Database, key, reason);
                return;
            }
            Count(prepared.Database, +1);
            if (prepared.Restore is null)
            {
                Defer(prepared.Item!);
                return;
            }
            await _target.SelectAsync(_pipeline, prepared.Database, Sent.Control, cancellationToken).ConfigureAwait(false);
            await _target.SendAsync(_pipeline, prepared.Restore, Sent.ForRestore(prepared.Item!), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The serialized value in memory; a value above the reader's threshold is streamed into a buffer of its own size.</summary>
        private static async Task<ReadOnlyMemory<byte>> HoldValueAsync(RdbEntry entry, CancellationToken cancellationToken)
        {
            if (entry.HasBufferedValue)
            {
                return entry.Value;
            }
            using var buffer = new MemoryStream();
            await entry.CopyValueToAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (buffer.Length > LargestRestorablePayload)
            {
                throw new RedisRecoveryException(ValueTooLargeId, FailureKind.NotSupported,
                    $"The value of '{entry.KeyText}' (db {entry.Database}) is {buffer.Length} bytes: larger than a Redis bulk string may be (512 MiB).") { Target = entry.KeyText };
            }
            return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        private void Defer(Deferred item)
        {
            _deferred.Add(item);
            _deferredBytes += item.Value.Length + item.Key.Length;
        }

        /// <summary>A key the target could not RESTORE: an empty collection is dropped (as Redis does when loading), anything
        /// else is rebuilt from its decoded value with plain commands, or reported when that cannot be done.</summary>
        private async Task RebuildAsync(Deferred item, CancellationToken cancellationToken)
        {
            var keyText = Encoding.UTF8.GetString(item.Key);
            RdbValue value;
            try
            {
                value = await RdbValueDecoder.DecodeAsync(item.TypeId, item.Value, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisRecoveryException exception)
            {
                Fail(item, keyText, $"{item.Reason}; decoding the value failed: {exception.Message}");
                return;
            }
            if (IsEmpty(value))
            {
                _result.KeysSkipped.Empty++;
                Count(item.Database, -1);
                return;
            }
            if (value is RdbModuleValue module)
            {
                Fail(item, keyText, $"module type '{module.ModuleName}' cannot be loaded by the target (is the module loaded there?): {item.Reason}");
                return;
            }
            await _target.SelectAsync(_pipeline, item.Database, Sent.Control, cancellationToken).ConfigureAwait(false);
            if (!ReplaceExisting && CheckExistingOnCommandPath)
            {
                await _pipeline.CompleteAsync(cancellationToken).ConfigureAwait(false);
                var exists = await _target.ExecuteAsync(new RedisCommand("EXISTS", item.Key), cancellationToken).ConfigureAwait(false);
                if (exists.Integer > 0)
                {
                    Conflict(item, keyText);
                    return;
                }
            }
            var key = new KeyOnCommandPath(item.Database, keyText);
            if (ReplaceExisting)
            {
                await _target.SendAsync(_pipeline, new RedisCommand("DEL", item.Key), Sent.Control, cancellationToken).ConfigureAwait(false);
            }
            var hasFieldTtl = _target.Version >= new Version(7, 4);
            ValueCommand? previous = null;
            foreach (var command in ValueCommands.For(item.Key, value, item.ExpiresAtMs, _nowMs, hasFieldTtl, WarnFieldTtlDropped))
            {
                if (previous is ValueCommand earlier)
                {
                    await _target.SendAsync(_pipeline, earlier.Command, Sent.ForCommandPath(key, earlier.BestEffort, last: false), cancellationToken).ConfigureAwait(false);
                }
                previous = command;
            }
            if (previous is ValueCommand final)
            {
                await _target.SendAsync(_pipeline, final.Command, Sent.ForCommandPath(key, final.BestEffort, last: true), cancellationToken).ConfigureAwait(false);
            }
        }

        private void WarnFieldTtlDropped()
        {
            if (!_fieldTtlWarned)
            {
                _fieldTtlWarned = true;
                _log.Warning($"{_target.Address} runs Redis {_target.ServerVersion}, which has no per-field hash expiry: hash fields are restored without their TTLs.");
            }
        }

        private static bool IsEmpty(RdbValue value) => value switch
        {
            RdbListValue list => list.Items.Count == 0,
            RdbSetValue set => set.Members.Count == 0,
            RdbSortedSetValue sortedSet => sortedSet.Members.Count == 0,
            RdbHashValue hash => hash.Fields.Count == 0,
            _ => false,
        };

        private async Task SendAofCommandAsync(AofCommand command, AofCommandBytes bytes, int database, CancellationToken cancellationToken)
        {
            var targetDatabase = MapDatabase(database);
            await _target.SelectAsync(_pipeline, targetDatabase, Sent.Control, cancellationToken).ConfigureAwait(false);
            var tag = Sent.ForAof(command, targetDatabase);
            if (command.Name == "FLUSHALL" && (_options.TargetDatabase != null || _options.Database != null))
            {
                // With a database mapping, the source's FLUSHALL means "empty this database", not the whole target.
                await _target.SendAsync(_pipeline, new RedisCommand("FLUSHDB"), tag, cancellationToken).ConfigureAwait(false);
                return;
            }
            var encoded = await bytes.ReadAsync(command, cancellationToken).ConfigureAwait(false);
            await _target.SendEncodedAsync(_pipeline, command.Name, encoded, tag, cancellationToken).ConfigureAwait(false);
        }

        private async Task SendTransactionAsync(List<AofCommand> transaction, AofCommandBytes bytes, int database, CancellationToken cancellationToken)
        {
            foreach (var command in transaction)
            {
                if (command.Name == "SELECT")
                {
                    database = await bytes.ReadDatabaseAsync(command, cancellationToken).ConfigureAwait(false);
                    await _target.SelectAsync(_pipeline, MapDatabase(database), Sent.Control, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                await SendAofCommandAsync(command, bytes, database, cancellationToken).ConfigureAwait(false);
            }
        }

        private void OnReply(Sent sent, RespValue reply)
        {
            switch (sent.Kind)
            {
                case SentKind.Control:
                    if (reply.IsError)
                    {
                        throw new RedisRecoveryException("RestoreCommandFailed", FailureKind.ServerError,
                            $"{_target.Address} refused a command the restore needs: {Shorten(reply.AsString())}") { Target = _target.Address };
                    }
                    break;
                case SentKind.Restore:
                    OnRestoreReply(sent.Item!, reply);
                    break;
                case SentKind.CommandPath:
                    var key = sent.Key!;
                    if (reply.IsError && !sent.BestEffort && !key.Failed)
                    {
                        key.Failed = true;
                        _result.AddFailure(key.Database, key.KeyText, "rebuilding with commands failed: " + Shorten(reply.AsString()));
                    }
                    if (sent.Last && !key.Failed)
                    {
                        _result.KeysRestored++;
                        _result.AddViaCommands(key.Database, key.KeyText);
                    }
                    break;
                case SentKind.Aof:
                    _result.CommandsReplayed++;
                    _acknowledged = sent.Completes ?? _acknowledged;
                    var failures = reply.IsError ? 1 : sent.Name == "EXEC" && reply.IsAggregate ? CountErrors(reply) : 0;
                    if (failures > 0 && sent.Name != "MULTI")
                    {
                        _result.CommandsFailed += failures;
                        _result.AddFailure(sent.Database, $"({sent.Name} at {sent.Location})", Shorten(reply.IsError ? reply.AsString() : "errors inside the transaction"));
                    }
                    break;
            }
        }

        private void OnRestoreReply(Deferred item, RespValue reply)
        {
            if (!reply.IsError)
            {
                _result.KeysRestored++;
                return;
            }
            var text = reply.AsString() ?? string.Empty;
            var keyText = Encoding.UTF8.GetString(item.Key);
            if (text.StartsWith("BUSYKEY", StringComparison.Ordinal))
            {
                Conflict(item, keyText);
            }
            else if (text.IndexOf("payload version", StringComparison.OrdinalIgnoreCase) >= 0 || text.IndexOf("Bad data format", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                Defer(item with { Reason = "RESTORE refused the payload: " + Shorten(text) });
            }
            else
            {
                Fail(item, keyText, "RESTORE failed: " + Shorten(text));
            }
        }

        private void Conflict(Deferred item, string keyText)
        {
            Count(item.Database, -1);
            if (_options.KeyConflict == KeyConflictPolicy.Skip)
            {
                _result.KeysSkipped.Conflict++;
            }
            else
            {
                _result.AddFailure(item.Database, keyText, "the key already exists in the target");
            }
        }

        private void Fail(Deferred item, string keyText, string reason) => _result.AddFailure(item.Database, keyText, reason);

        private void Count(int database, int delta) => _written[database] = (_written.TryGetValue(database, out var n) ? n : 0) + delta;

        private static long CountErrors(RespValue exec)
        {
            long errors = 0;
            foreach (var item in exec.Items)
            {
                if (item.IsError)
                {
                    errors++;
                }
            }
            return errors;
        }

        /// <summary>Server error text, cut short: some errors quote arguments, which can be values.</summary>
        private static string Shorten(string? text)
        {
            text ??= string.Empty;
            return text.Length <= 120 ? text : text.Substring(0, 120) + "...";
        }

        /// <summary>One source entry made ready to send (or a count, or a failure), with the source position after it.</summary>
        private sealed class PreparedEntry
        {
            public PreparedEntry(int database, long position)
            {
                Database = database;
                Position = position;
            }

            public int Database { get; }

            public long Position { get; }

            public Deferred? Item { get; init; }

            public RedisCommand? Restore { get; init; }

            public bool CountOnly { get; init; }

            public (string Key, string Reason)? Failure { get; init; }
        }

        /// <summary>
        /// A bounded hand-over between the reading and the sending side, in batches (one synchronisation per batch, not
        /// per key); the reader ends it with Complete, which also hands over the last partial batch.
        /// </summary>
        private sealed class PreparedQueue
        {
            private const int BatchSize = 128;
            private readonly ConcurrentQueue<List<PreparedEntry>> _batches = new();
            private readonly SemaphoreSlim _free;
            private readonly SemaphoreSlim _ready = new(0);
            private List<PreparedEntry> _filling = new(BatchSize);
            private List<PreparedEntry>? _taking;
            private int _takeIndex;
            private Exception? _failure;
            private volatile bool _completed;

            public PreparedQueue(int capacity) => _free = new SemaphoreSlim(Math.Max(2, capacity / BatchSize));

            public async Task AddAsync(PreparedEntry item, CancellationToken cancellationToken)
            {
                _filling.Add(item);
                if (_filling.Count >= BatchSize)
                {
                    await HandOverAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            public void Complete(Exception? failure)
            {
                if (_filling.Count > 0)
                {
                    _batches.Enqueue(_filling);
                    _filling = new List<PreparedEntry>();
                    _ready.Release();
                }
                _failure = failure;
                _completed = true;
                _ready.Release();
            }

            /// <summary>Lets a reader blocked on a full queue go (the sending side has stopped).</summary>
            public void Release() => _free.Release(1024);

            /// <summary>The next item; null at the end; the reader's exception when it failed.</summary>
            public async Task<PreparedEntry?> TakeAsync(CancellationToken cancellationToken)
            {
                while (true)
                {
                    if (_taking != null && _takeIndex < _taking.Count)
                    {
                        return _taking[_takeIndex++];
                    }
                    await _ready.WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (_batches.TryDequeue(out var batch))
                    {
                        _free.Release();
                        _taking = batch;
                        _takeIndex = 0;
                        continue;
                    }
                    if (_completed)
                    {
                        _ready.Release();
                        if (_failure != null)
                        {
                            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(_failure).Throw();
                        }
                        return null;
                    }
                }
            }

            private async Task HandOverAsync(CancellationToken cancellationToken)
            {
                await _free.WaitAsync(cancellationToken).ConfigureAwait(false);
                _batches.Enqueue(_filling);
                _filling = new List<PreparedEntry>(BatchSize);
                _ready.Release();
            }
        }

        /// <summary>A key that is (or may need to be) rebuilt from commands, with what that needs.</summary>
        private sealed record Deferred(int Database, byte[] Key, byte TypeId, ReadOnlyMemory<byte> Value, long? ExpiresAtMs, string? Reason);

        private sealed class KeyOnCommandPath
        {
            public KeyOnCommandPath(int database, string keyText)
            {
                Database = database;
                KeyText = keyText;
            }

            public int Database { get; }

            public string KeyText { get; }

            public bool Failed { get; set; }
        }

        private enum SentKind
        {
            Control,
            Restore,
            CommandPath,
            Aof,
        }

        /// <summary>What a reply in the pipeline answers.</summary>
        private sealed class Sent
        {
            public static readonly Sent Control = new() { Kind = SentKind.Control };

            public SentKind Kind { get; private init; }

            public Deferred? Item { get; private init; }

            public KeyOnCommandPath? Key { get; private init; }

            public bool BestEffort { get; private init; }

            public bool Last { get; private init; }

            public string Name { get; private init; } = string.Empty;

            public string Location { get; private init; } = string.Empty;

            public int Database { get; private init; }

            public static Sent ForRestore(Deferred item) => new() { Kind = SentKind.Restore, Item = item };

            public static Sent ForCommandPath(KeyOnCommandPath key, bool bestEffort, bool last) =>
                new() { Kind = SentKind.CommandPath, Key = key, BestEffort = bestEffort, Last = last };

            /// <summary>The position after the command, if applying it completes a unit (a command outside MULTI, or an EXEC).</summary>
            public (int Part, long Offset)? Completes { get; private init; }

            public static Sent ForAof(AofCommand command, int database) =>
                new()
                {
                    Kind = SentKind.Aof,
                    Name = command.Name,
                    Location = $"{command.File} byte {command.Offset}",
                    Database = database,
                    Completes = !command.InTransaction || command.Name == "EXEC" ? (command.PartIndex, command.Offset + command.Length) : null,
                };
        }
    }
}
