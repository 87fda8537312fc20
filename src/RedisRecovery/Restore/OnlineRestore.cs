using System;
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
    /// when the target cannot take the payload), plain strings as MSET batches (the server applies them in about
    /// two thirds of RESTORE's time per key), AOF commands as they are stored. Replies are accounted as they
    /// arrive; at checkpoints the pipeline is drained, keys whose RESTORE was refused are rebuilt from commands,
    /// and the journal records the source position before which everything is in the target.
    /// </summary>
    internal sealed class OnlineRestore
    {
        private const int LargestRestorablePayload = 512 * 1024 * 1024;
        private const long DeferredBytesLimit = 16 * 1024 * 1024;
        private const int CheckpointEntries = 8192;
        private const int StringBatchKeys = 256;
        private const int StringBatchBytes = 256 * 1024;
        private static readonly RedisArgument NoExpiry = 0;
        private static readonly RedisArgument ReplaceArgument = "REPLACE";
        private static readonly RedisArgument AbsoluteTtlArgument = "ABSTTL";
        private static readonly RedisArgument IdleTimeArgument = "IDLETIME";
        private static readonly RedisArgument FrequencyArgument = "FREQ";
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
        private readonly List<Deferred> _batch = new();
        private readonly List<RedisArgument> _batchArguments = new();
        private readonly List<Deferred> _unbatched = new();
        private readonly int _batchLimit;
        private int _batchSourceDatabase;
        private long _batchBytes;
        private string? _batchCommand;
        private readonly Dictionary<int, long> _written = new();
        private readonly Stopwatch _sinceCheckpoint = Stopwatch.StartNew();
        private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
        private long _deferredBytes;
        private int _sentSinceCheckpoint;
        private (int Part, long Offset)? _acknowledged;
        private bool _fieldTtlWarned;
        private bool _checkExisting;
        private long? _sourceLength;
        private string _rdbSourceName = "RDB";

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
            _batchLimit = options.MaxOpsPerSecond is > 0 and var limit ? Math.Min(StringBatchKeys, limit) : StringBatchKeys;
            _batchCommand = ChooseBatchCommand();
        }

        /// <summary>Keys sent per target database (minus those the target dropped as empty or kept as conflicts).</summary>
        public IReadOnlyDictionary<int, long> Written => _written;

        /// <summary>The command path checks for an existing key first unless the target is known to be free of it.</summary>
        public bool CheckExistingOnCommandPath
        {
            get => _checkExisting;
            set
            {
                _checkExisting = value;
                _batchCommand = ChooseBatchCommand();
            }
        }

        private bool ReplaceExisting { get; }

        public int MapDatabase(int sourceDatabase) => _options.TargetDatabase ?? sourceDatabase;

        /// <summary>
        /// Restores every entry of an RDB (a file, or the preamble of an AOF's part <paramref name="part"/>). Reading,
        /// encoding and sending run on one thread: the server needs a core of its own to apply the commands, and a
        /// hand-over between two client threads cost more (synchronisation, an object per key) than it overlapped.
        /// </summary>
        public async Task RestoreRdbAsync(RdbReader reader, int part, CancellationToken cancellationToken)
        {
            _sourceLength ??= reader.KnownEnd;
            _rdbSourceName = reader.SourceName;
            var resumeOffset = ResumeOffsetFor(part);
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
                        Count(database, +1);
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
                await RestoreEntryAsync(entry, database, cancellationToken).ConfigureAwait(false);
                _result.Bytes = reader.Position - reader.StartOffset;
                await MaybeCheckpointAsync(part, reader.Position, cancellationToken).ConfigureAwait(false);
            }
            _result.Bytes = reader.Position - reader.StartOffset;
            await CheckpointAsync(part, reader.Position, cancellationToken).ConfigureAwait(false);
            await RestoreFunctionsAsync(reader.Info.Functions, cancellationToken).ConfigureAwait(false);
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
            await FlushBatchAsync(cancellationToken).ConfigureAwait(false);
            await _pipeline.CompleteAsync(cancellationToken).ConfigureAwait(false);
            while (_deferred.Count > 0 || _unbatched.Count > 0)
            {
                var unbatched = _unbatched.ToArray();
                _unbatched.Clear();
                foreach (var item in unbatched)
                {
                    await SendRestoreAsync(item, RestoreOptionArguments(null), cancellationToken).ConfigureAwait(false);
                }
                var deferred = _deferred.ToArray();
                _deferred.Clear();
                _deferredBytes = 0;
                foreach (var item in deferred)
                {
                    await RebuildAsync(item, (sink, token) => RdbValueDecoder.WalkAsync(item.TypeId, item.Value, sink, token), cancellationToken).ConfigureAwait(false);
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

        /// <summary>
        /// Sends one entry as RESTORE, or sets it aside for the command path when the target's RDB version lacks its
        /// type. A value above the reader's threshold is streamed into the connection (or, on the command path, into
        /// commands at once), never held.
        /// </summary>
        private async Task RestoreEntryAsync(RdbEntry entry, int database, CancellationToken cancellationToken)
        {
            if (_batch.Count > 0 && entry.Database != _batchSourceDatabase)
            {
                // Two source databases may map to one target database and hold the same key: one batch never spans them.
                await FlushBatchAsync(cancellationToken).ConfigureAwait(false);
            }
            if (TryBatch(entry, database))
            {
                if (_batch.Count >= _batchLimit || _batchBytes >= StringBatchBytes)
                {
                    await FlushBatchAsync(cancellationToken).ConfigureAwait(false);
                }
                return;
            }
            var minimumVersion = RdbFormat.MinimumVersionOf(entry.TypeId);
            if (minimumVersion > _target.RdbVersion)
            {
                Count(database, +1);
                var reason = $"RDB type {entry.TypeId} needs RDB version {minimumVersion}, the target reads up to {_target.RdbVersion}";
                if (entry.HasBufferedValue)
                {
                    Defer(new Deferred(database, entry.Key, entry.TypeId, entry.Value, entry.ExpiresAtMs, reason));
                }
                else
                {
                    await RebuildFromSourceAsync(entry, new Deferred(database, entry.Key, entry.TypeId, ReadOnlyMemory<byte>.Empty, entry.ExpiresAtMs, reason),
                        cancellationToken).ConfigureAwait(false);
                }
                return;
            }
            if (!entry.HasBufferedValue)
            {
                await RestoreLargeValueAsync(entry, database, minimumVersion, cancellationToken).ConfigureAwait(false);
                return;
            }
            Count(database, +1);
            var item = new Deferred(database, entry.Key, entry.TypeId, entry.Value, entry.ExpiresAtMs, null);
            await SendRestoreAsync(item, RestoreOptionArguments(entry), cancellationToken).ConfigureAwait(false);
        }

        private async Task SendRestoreAsync(Deferred item, RedisArgument[] options, CancellationToken cancellationToken)
        {
            await _target.SelectAsync(_pipeline, item.Database, Sent.Control, cancellationToken).ConfigureAwait(false);
            var serialized = item.Value;
            var payload = RedisArgument.Framed(RdbDumpPayload.TypeByte(item.TypeId), serialized,
                RdbDumpPayload.Footer(RdbDumpPayload.ChecksumOf(item.TypeId, serialized.Span), RdbFormat.MinimumVersionOf(item.TypeId)));
            var arguments = new RedisArgument[3 + options.Length];
            arguments[0] = item.Key;
            arguments[1] = Ttl(item.ExpiresAtMs);
            arguments[2] = payload;
            options.CopyTo(arguments, 3);
            await _target.SendAsync(_pipeline, new RedisCommand("RESTORE", arguments), Sent.ForRestore(item), cancellationToken).ConfigureAwait(false);
        }

        private static RedisArgument Ttl(long? expiresAtMs) => expiresAtMs is long expiry ? (RedisArgument)expiry : NoExpiry;

        /// <summary>
        /// MSET when keys are replaced anyway; MSETNX when the target was found empty, so that a key written meanwhile by
        /// someone else makes the batch fail and its keys go one by one through RESTORE, which settles each conflict.
        /// Where the target may hold keys, or is a cluster node (the keys of a batch lie in different hash slots), none.
        /// </summary>
        private string? ChooseBatchCommand() =>
            _target.IsClusterNode ? null : ReplaceExisting ? "MSET" : !_checkExisting ? "MSETNX" : null;

        /// <summary>
        /// Adds a plain string to the batch: one held in memory, without expiry or LRU/LFU metadata (MSET carries
        /// neither), whose serialized form decodes. False sends it as RESTORE.
        /// </summary>
        private bool TryBatch(RdbEntry entry, int database)
        {
            if (_batchCommand == null || entry.TypeId != RdbFormat.TypeString || !entry.HasBufferedValue
                || entry.ExpiresAtMs != null || entry.IdleSeconds != null || entry.LfuFrequency != null
                || !RdbStringDecoding.TryDecode(entry.Value, out var plain))
            {
                return false;
            }
            Count(database, +1);
            _batchSourceDatabase = entry.Database;
            _batch.Add(new Deferred(database, entry.Key, entry.TypeId, entry.Value, null, null));
            _batchArguments.Add(entry.Key);
            _batchArguments.Add(plain);
            _batchBytes += entry.Key.Length + plain.Length;
            return true;
        }

        private async Task FlushBatchAsync(CancellationToken cancellationToken)
        {
            if (_batch.Count == 0)
            {
                return;
            }
            var items = _batch.ToArray();
            var command = new RedisCommand(_batchCommand!, _batchArguments.ToArray());
            _batch.Clear();
            _batchArguments.Clear();
            _batchBytes = 0;
            await _target.SelectAsync(_pipeline, items[0].Database, Sent.Control, cancellationToken).ConfigureAwait(false);
            await _target.SendAsync(_pipeline, command, Sent.ForBatch(items), cancellationToken, items.Length).ConfigureAwait(false);
        }

        /// <summary>The arguments after RESTORE's payload (<paramref name="entry"/> null: a string that came out of a refused batch).</summary>
        private RedisArgument[] RestoreOptionArguments(RdbEntry? entry)
        {
            var count = (ReplaceExisting ? 1 : 0) + (entry?.ExpiresAtMs != null ? 1 : 0) + (entry?.IdleSeconds != null || entry?.LfuFrequency != null ? 2 : 0);
            if (count == 0)
            {
                return Array.Empty<RedisArgument>();
            }
            var options = new RedisArgument[count];
            var at = 0;
            if (ReplaceExisting)
            {
                options[at++] = ReplaceArgument;
            }
            if (entry?.ExpiresAtMs != null)
            {
                options[at++] = AbsoluteTtlArgument;
            }
            if (entry?.IdleSeconds is ulong idle)
            {
                options[at++] = IdleTimeArgument;
                options[at] = (long)Math.Min(idle, long.MaxValue);
            }
            else if (entry?.LfuFrequency is byte frequency)
            {
                options[at++] = FrequencyArgument;
                options[at] = (int)frequency;
            }
            return options;
        }

        /// <summary>
        /// RESTORE for a value above the reader's threshold. A RESP bulk string states its length first and an RDB value
        /// reveals its length only once walked, so the DUMP payload (type, value, version, CRC64 computed on the way)
        /// goes to a temporary file, which is then streamed into the connection: memory stays at a buffer's size.
        /// The reply is settled at once, while the file still exists: a refused payload, or one larger than RESTORE
        /// takes, is rebuilt with commands from that file.
        /// </summary>
        private async Task RestoreLargeValueAsync(RdbEntry entry, int database, int payloadVersion, CancellationToken cancellationToken)
        {
            var spillPath = Path.Combine(Path.GetTempPath(), $"redisrecovery-restore-{Guid.NewGuid():N}.payload");
            using var spill = new FileStream(spillPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
                FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            var checksumming = new ChecksummingStream(spill);
            await checksumming.WriteAsync(RdbDumpPayload.TypeByte(entry.TypeId).ToArray(), 0, 1, cancellationToken).ConfigureAwait(false);
            await entry.CopyValueToAsync(checksumming, cancellationToken).ConfigureAwait(false);
            var valueLength = spill.Length - 1;
            if (valueLength + 1 + RdbDumpPayload.FooterLength > LargestRestorablePayload)
            {
                Count(database, +1);
                var tooLarge = new Deferred(database, entry.Key, entry.TypeId, ReadOnlyMemory<byte>.Empty, entry.ExpiresAtMs,
                    $"the value is {valueLength} bytes, more than RESTORE takes (512 MiB)");
                await RebuildFromSpillAsync(tooLarge, spill, entry.ValueOffset, cancellationToken).ConfigureAwait(false);
                return;
            }
            var footer = RdbDumpPayload.Footer(checksumming.Checksum, payloadVersion);
            await spill.WriteAsync(footer, 0, footer.Length, cancellationToken).ConfigureAwait(false);
            await spill.FlushAsync(cancellationToken).ConfigureAwait(false);
            spill.Position = 0;

            Count(database, +1);
            await _target.SelectAsync(_pipeline, database, Sent.Control, cancellationToken).ConfigureAwait(false);
            var options = RestoreOptionArguments(entry);
            var item = new Deferred(database, entry.Key, entry.TypeId, ReadOnlyMemory<byte>.Empty, entry.ExpiresAtMs, null);
            await _target.SendStreamedAsync(_pipeline, new RedisCommand("RESTORE", entry.Key, Ttl(entry.ExpiresAtMs)), spill, spill.Length, options,
                Sent.ForRestore(item), cancellationToken).ConfigureAwait(false);
            await _pipeline.CompleteAsync(cancellationToken).ConfigureAwait(false);
            var refused = _deferred.FindIndex(deferred => ReferenceEquals(deferred.Key, entry.Key));
            if (refused >= 0)
            {
                var refusedItem = _deferred[refused];
                _deferred.RemoveAt(refused);
                _deferredBytes -= refusedItem.Key.Length;
                spill.SetLength(1 + valueLength);
                await RebuildFromSpillAsync(refusedItem, spill, entry.ValueOffset, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Rebuilds with commands a value whose DUMP payload (type byte, then the value) is in a temporary file.</summary>
        private Task RebuildFromSpillAsync(Deferred item, FileStream spill, long valueOffset, CancellationToken cancellationToken)
        {
            spill.Position = 1;
            return RebuildAsync(item, (sink, token) => RdbValueDecoder.WalkAsync(item.TypeId, spill, _rdbSourceName, valueOffset, sink, token), cancellationToken);
        }

        /// <summary>Rebuilds with commands a value above the reader's threshold that the target cannot RESTORE, as it is
        /// read from the source (neither held nor written to disk).</summary>
        private Task RebuildFromSourceAsync(RdbEntry entry, Deferred item, CancellationToken cancellationToken) =>
            RebuildAsync(item, (sink, token) => entry.WalkValueAsync(_rdbSourceName, sink, token), cancellationToken);

        private void Defer(Deferred item)
        {
            _deferred.Add(item);
            _deferredBytes += item.Value.Length + item.Key.Length;
        }

        /// <summary>
        /// Rebuilds a key the target could not RESTORE with plain commands, sent as <paramref name="walk"/> decodes its
        /// elements: memory stays at one batch of elements whatever the value's size. A value found damaged midway
        /// fails the key and what was written of it is deleted; a value with nothing to write (an empty collection, or a
        /// hash whose fields all expired) is dropped, as Redis does when loading. A module value is reported.
        /// </summary>
        private async Task RebuildAsync(Deferred item, Func<IRdbElementSink, CancellationToken, ValueTask> walk, CancellationToken cancellationToken)
        {
            var keyText = Encoding.UTF8.GetString(item.Key);
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
            // The existing key goes only once there is something to replace it with: a value that cannot be decoded leaves it.
            var deleteFirst = ReplaceExisting;
            async Task SendAsync(ValueCommand command, bool last, CancellationToken token)
            {
                if (deleteFirst)
                {
                    deleteFirst = false;
                    await _target.SendAsync(_pipeline, new RedisCommand("DEL", item.Key), Sent.Control, token).ConfigureAwait(false);
                }
                await _target.SendAsync(_pipeline, command.Command, Sent.ForCommandPath(key, command.BestEffort, last), token).ConfigureAwait(false);
            }
            var writer = new ValueCommandWriter(item.Key, item.ExpiresAtMs, _nowMs, _target.Version >= new Version(7, 4), WarnFieldTtlDropped, SendAsync);
            try
            {
                await walk(writer, cancellationToken).ConfigureAwait(false);
                await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RedisRecoveryException failure) when (failure is CorruptDataException or RdbFormatNotSupportedException || failure.ErrorId == ValueCommandWriter.NotRebuildableId)
            {
                key.Failed = true;
                Fail(item, keyText, failure.ErrorId == ValueCommandWriter.NotRebuildableId
                    ? $"{failure.Message}: {item.Reason}"
                    : $"{item.Reason}; decoding the value failed: {failure.Message}");
                if (writer.Started)
                {
                    await _target.SendAsync(_pipeline, new RedisCommand("DEL", item.Key), Sent.Control, cancellationToken).ConfigureAwait(false);
                }
                return;
            }
            if (!writer.Started)
            {
                Count(item.Database, -1);
                if (writer.ExpiredFields > 0)
                {
                    _result.KeysSkipped.Expired++;
                }
                else
                {
                    _result.KeysSkipped.Empty++;
                }
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
                case SentKind.Batch:
                    OnBatchReply(sent.Batch!, reply);
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

        /// <summary>MSET answers OK; MSETNX answers 1, or 0 when one of the keys existed and it set none. A batch that was
        /// not applied goes key by key through RESTORE at the next checkpoint, which gives each key its own verdict.</summary>
        private void OnBatchReply(Deferred[] items, RespValue reply)
        {
            if (!reply.IsError && (reply.Type != RespType.Integer || reply.Integer == 1))
            {
                _result.KeysRestored += items.Length;
                return;
            }
            foreach (var item in items)
            {
                _unbatched.Add(item);
                _deferredBytes += item.Value.Length + item.Key.Length;
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

        /// <summary>Passes writes through to a stream and keeps the CRC64 of everything written (a DUMP payload's footer).</summary>
        private sealed class ChecksummingStream : ForwardOnlyStream
        {
            private readonly Stream _inner;

            public ChecksummingStream(Stream inner) => _inner = inner;

            public ulong Checksum { get; private set; }

            public override bool CanRead => false;

            public override bool CanWrite => true;

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Write(byte[] buffer, int offset, int count)
            {
                Checksum = Crc64.Update(Checksum, buffer.AsSpan(offset, count));
                _inner.Write(buffer, offset, count);
            }

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            {
                Checksum = Crc64.Update(Checksum, buffer.AsSpan(offset, count));
                return _inner.WriteAsync(buffer, offset, count, cancellationToken);
            }

            public override void Flush() => _inner.Flush();

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
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
            Batch,
            CommandPath,
            Aof,
        }

        /// <summary>What a reply in the pipeline answers.</summary>
        private readonly struct Sent
        {
            public static readonly Sent Control = new() { Kind = SentKind.Control };

            public SentKind Kind { get; private init; }

            public Deferred? Item { get; private init; }

            public Deferred[]? Batch { get; private init; }

            public KeyOnCommandPath? Key { get; private init; }

            public bool BestEffort { get; private init; }

            public bool Last { get; private init; }

            public string? Name { get; private init; }

            public string? Location { get; private init; }

            public int Database { get; private init; }

            public static Sent ForRestore(Deferred item) => new() { Kind = SentKind.Restore, Item = item };

            public static Sent ForBatch(Deferred[] items) => new() { Kind = SentKind.Batch, Batch = items };

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
