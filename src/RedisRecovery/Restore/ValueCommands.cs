using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;

namespace RedisRecovery.Restore
{
    /// <summary>One command that rebuilds part of a key; best-effort ones (consumer-group state) may fail without failing the key.</summary>
    internal readonly struct ValueCommand
    {
        public ValueCommand(RedisCommand command, bool bestEffort = false)
        {
            Command = command;
            BestEffort = bestEffort;
        }

        public RedisCommand Command { get; }

        public bool BestEffort { get; }
    }

    /// <summary>
    /// Rebuilds a value with plain commands, for targets that cannot take its DUMP payload (an older RDB version, an
    /// encoding they do not know), as the walker hands over its elements: collections go out in commands of at most
    /// 512 elements or 1 MiB, so neither the value nor any single command is ever large, and the expiry comes last
    /// (PEXPIREAT), after the key exists. One command is held back until the next arrives, so the sender learns
    /// which command is the key's last.
    /// </summary>
    internal sealed class ValueCommandWriter : IRdbElementSink
    {
        /// <summary>The error id of a value no command can rebuild (a module value).</summary>
        public const string NotRebuildableId = "RestoreValueNotRebuildable";

        private const int MaxElementsPerCommand = 512;
        private const long MaxBytesPerCommand = 1024 * 1024;
        private const long ScoreSize = 24;

        private readonly byte[] _key;
        private readonly long? _expiresAtMs;
        private readonly long _nowMs;
        private readonly bool _targetHasFieldTtl;
        private readonly Action _fieldTtlDropped;
        private readonly Func<ValueCommand, bool, CancellationToken, Task> _send;
        private readonly List<RedisArgument> _batch = new();
        private readonly List<RdbHashField> _batchFieldTtls = new();
        private string? _batchCommand;
        private int _batchElements;
        private long _batchBytes;
        private ValueCommand? _held;
        private bool _streamHasEntries;

        /// <param name="send">Sends one command; its flag says it is the key's last.</param>
        public ValueCommandWriter(byte[] key, long? expiresAtMs, long nowMs, bool targetHasFieldTtl, Action fieldTtlDropped,
            Func<ValueCommand, bool, CancellationToken, Task> send)
        {
            _key = key;
            _expiresAtMs = expiresAtMs;
            _nowMs = nowMs;
            _targetHasFieldTtl = targetHasFieldTtl;
            _fieldTtlDropped = fieldTtlDropped;
            _send = send;
        }

        /// <summary>True once any command for the key was produced (sent, or held back as possibly the last).</summary>
        public bool Started { get; private set; }

        /// <summary>Hash fields left out because their own expiry has passed.</summary>
        public long ExpiredFields { get; private set; }

        public ValueTask StringAsync(byte[] value, CancellationToken cancellationToken) =>
            EmitAsync(new ValueCommand(new RedisCommand("SET", _key, value)), cancellationToken);

        public ValueTask ListItemAsync(byte[] item, CancellationToken cancellationToken) =>
            AddAsync("RPUSH", item, null, item.Length, cancellationToken);

        public ValueTask SetMemberAsync(byte[] member, CancellationToken cancellationToken) =>
            AddAsync("SADD", member, null, member.Length, cancellationToken);

        public ValueTask SortedSetMemberAsync(RdbSortedSetMember member, CancellationToken cancellationToken) =>
            AddAsync("ZADD", Score(member.Score), member.Member, member.Member.Length + ScoreSize, cancellationToken);

        public ValueTask HashFieldAsync(RdbHashField field, CancellationToken cancellationToken)
        {
            if (field.ExpiresAtMs is long fieldExpiry)
            {
                if (fieldExpiry <= _nowMs)
                {
                    ExpiredFields++;
                    return default;
                }
                if (_targetHasFieldTtl)
                {
                    _batchFieldTtls.Add(field);
                }
                else
                {
                    _fieldTtlDropped();
                }
            }
            return AddAsync("HSET", field.Field, field.Value, field.Field.Length + field.Value.Length, cancellationToken);
        }

        public ValueTask StreamEntryAsync(RdbStreamEntry entry, CancellationToken cancellationToken)
        {
            _streamHasEntries = true;
            var arguments = new List<RedisArgument>(2 + entry.Fields.Count * 2) { _key, entry.Id.ToString() };
            foreach (var field in entry.Fields)
            {
                arguments.Add(field.Key);
                arguments.Add(field.Value);
            }
            return EmitAsync(new ValueCommand(new RedisCommand("XADD", arguments)), cancellationToken);
        }

        public async ValueTask StreamInfoAsync(RdbStreamInfo info, CancellationToken cancellationToken)
        {
            if (!_streamHasEntries)
            {
                // MKSTREAM on a throw-away group is the one command that makes an empty stream.
                await EmitAsync(new ValueCommand(new RedisCommand("XGROUP", "CREATE", _key, "__restore__", "0", "MKSTREAM")), cancellationToken).ConfigureAwait(false);
                await EmitAsync(new ValueCommand(new RedisCommand("XGROUP", "DESTROY", _key, "__restore__")), cancellationToken).ConfigureAwait(false);
            }
            var setId = new List<RedisArgument> { _key, info.LastId.ToString() };
            if (info.EntriesAdded is ulong added)
            {
                setId.Add("ENTRIESADDED");
                setId.Add((long)added);
            }
            if (info.MaxDeletedId is RdbStreamId maxDeleted)
            {
                setId.Add("MAXDELETEDID");
                setId.Add(maxDeleted.ToString());
            }
            await EmitAsync(new ValueCommand(new RedisCommand("XSETID", setId)), cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask StreamGroupAsync(RdbStreamGroup group, CancellationToken cancellationToken)
        {
            var create = new List<RedisArgument> { "CREATE", _key, group.Name, group.LastDeliveredId.ToString() };
            if (group.EntriesRead is ulong read)
            {
                create.Add("ENTRIESREAD");
                create.Add((long)read);
            }
            await EmitAsync(new ValueCommand(new RedisCommand("XGROUP", create)), cancellationToken).ConfigureAwait(false);
            var deliveries = new Dictionary<RdbStreamId, RdbStreamPendingEntry>();
            foreach (var pending in group.Pending)
            {
                deliveries[pending.Id] = pending;
            }
            foreach (var consumer in group.Consumers)
            {
                await EmitAsync(new ValueCommand(new RedisCommand("XGROUP", "CREATECONSUMER", _key, group.Name, consumer.Name), bestEffort: true), cancellationToken).ConfigureAwait(false);
                foreach (var id in consumer.Pending)
                {
                    // XCLAIM FORCE puts an existing entry into the consumer's pending list with its delivery facts.
                    var claim = new List<RedisArgument> { _key, group.Name, consumer.Name, 0, id.ToString() };
                    if (deliveries.TryGetValue(id, out var delivery))
                    {
                        claim.Add("TIME");
                        claim.Add(delivery.DeliveryTimeMs);
                        claim.Add("RETRYCOUNT");
                        claim.Add((long)delivery.DeliveryCount);
                    }
                    claim.Add("FORCE");
                    claim.Add("JUSTID");
                    await EmitAsync(new ValueCommand(new RedisCommand("XCLAIM", claim), bestEffort: true), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>Idempotency records of Redis 8 producers have no command that recreates them (XADD IDMP would add entries).</summary>
        public ValueTask StreamProducerAsync(RdbStreamProducer producer, CancellationToken cancellationToken) => default;

        public ValueTask ModuleAsync(ulong moduleId, CancellationToken cancellationToken) =>
            throw new RedisRecoveryException(NotRebuildableId, FailureKind.NotSupported,
                $"module type '{RdbModuleNames.NameOf(moduleId)}' cannot be loaded by the target (is the module loaded there?)");

        /// <summary>Sends what is batched, the expiry, and the held-back command as the key's last.</summary>
        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            await FlushBatchAsync(cancellationToken).ConfigureAwait(false);
            if (Started && _expiresAtMs is long expiry)
            {
                await EmitAsync(new ValueCommand(new RedisCommand("PEXPIREAT", _key, expiry)), cancellationToken).ConfigureAwait(false);
            }
            if (_held is ValueCommand last)
            {
                _held = null;
                await _send(last, true, cancellationToken).ConfigureAwait(false);
            }
        }

        private ValueTask AddAsync(string command, RedisArgument first, RedisArgument? second, long size, CancellationToken cancellationToken)
        {
            if (_batchCommand is null)
            {
                _batchCommand = command;
                _batch.Add(_key);
            }
            _batch.Add(first);
            if (second is RedisArgument other)
            {
                _batch.Add(other);
            }
            _batchElements++;
            _batchBytes += size;
            return _batchElements >= MaxElementsPerCommand || _batchBytes >= MaxBytesPerCommand ? FlushBatchAsync(cancellationToken) : default;
        }

        private async ValueTask FlushBatchAsync(CancellationToken cancellationToken)
        {
            if (_batchCommand is null)
            {
                return;
            }
            var command = new RedisCommand(_batchCommand, _batch);
            _batch.Clear();
            _batchCommand = null;
            _batchElements = 0;
            _batchBytes = 0;
            await EmitAsync(new ValueCommand(command), cancellationToken).ConfigureAwait(false);
            foreach (var field in _batchFieldTtls)
            {
                await EmitAsync(new ValueCommand(new RedisCommand("HPEXPIREAT", _key, field.ExpiresAtMs!.Value, "FIELDS", 1, field.Field)), cancellationToken).ConfigureAwait(false);
            }
            _batchFieldTtls.Clear();
        }

        private async ValueTask EmitAsync(ValueCommand command, CancellationToken cancellationToken)
        {
            Started = true;
            if (_held is ValueCommand earlier)
            {
                await _send(earlier, false, cancellationToken).ConfigureAwait(false);
            }
            _held = command;
        }

        /// <summary>A score as Redis parses it ("inf", "-inf", shortest round-trip decimal otherwise).</summary>
        private static RedisArgument Score(double score) =>
            double.IsPositiveInfinity(score) ? "inf"
            : double.IsNegativeInfinity(score) ? "-inf"
            : score.ToString("R", CultureInfo.InvariantCulture);
    }
}
