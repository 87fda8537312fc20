using System;
using System.Collections.Generic;
using System.Globalization;
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
    /// Rebuilds a decoded value with plain commands, for targets that cannot take its DUMP payload (an older RDB
    /// version, an encoding they do not know). Collections go out in chunks of bounded size, so no single command
    /// is huge, and the expiry comes last (PEXPIREAT), after the key exists.
    /// </summary>
    internal static class ValueCommands
    {
        private const int MaxElementsPerCommand = 512;
        private const long MaxBytesPerCommand = 1024 * 1024;

        /// <summary>The commands for one key; <paramref name="fieldTtlDropped"/> says a hash had field expiries the target cannot hold.</summary>
        public static IEnumerable<ValueCommand> For(byte[] key, RdbValue value, long? expiresAtMs, long nowMs, bool targetHasFieldTtl, Action fieldTtlDropped)
        {
            switch (value)
            {
                case RdbStringValue text:
                    yield return new ValueCommand(new RedisCommand("SET", key, text.Value));
                    break;
                case RdbListValue list:
                    foreach (var command in Chunked("RPUSH", key, list.Items, item => new RedisArgument[] { item }, item => item.Length))
                    {
                        yield return command;
                    }
                    break;
                case RdbSetValue set:
                    foreach (var command in Chunked("SADD", key, set.Members, member => new RedisArgument[] { member }, member => member.Length))
                    {
                        yield return command;
                    }
                    break;
                case RdbSortedSetValue sortedSet:
                    foreach (var command in Chunked("ZADD", key, sortedSet.Members, m => new RedisArgument[] { Score(m.Score), m.Member }, m => m.Member.Length + 24))
                    {
                        yield return command;
                    }
                    break;
                case RdbHashValue hash:
                    foreach (var command in HashCommands(key, hash, nowMs, targetHasFieldTtl, fieldTtlDropped))
                    {
                        yield return command;
                    }
                    break;
                case RdbStreamValue stream:
                    foreach (var command in StreamCommands(key, stream))
                    {
                        yield return command;
                    }
                    break;
                default:
                    throw new RedisRecoveryException("RestoreValueNotRebuildable", FailureKind.NotSupported,
                        value is RdbModuleValue module
                            ? $"a value of module type '{module.ModuleName}' can only be restored by a server that has the module"
                            : $"a {value.Type} value cannot be rebuilt with commands");
            }
            if (expiresAtMs is long expiry)
            {
                yield return new ValueCommand(new RedisCommand("PEXPIREAT", key, expiry));
            }
        }

        private static IEnumerable<ValueCommand> HashCommands(byte[] key, RdbHashValue hash, long nowMs, bool targetHasFieldTtl, Action fieldTtlDropped)
        {
            var live = new List<RdbHashField>(hash.Fields.Count);
            foreach (var field in hash.Fields)
            {
                if (field.ExpiresAtMs is not long fieldExpiry || fieldExpiry > nowMs)
                {
                    live.Add(field);
                }
            }
            foreach (var command in Chunked("HSET", key, live, f => new RedisArgument[] { f.Field, f.Value }, f => f.Field.Length + f.Value.Length))
            {
                yield return command;
            }
            foreach (var field in live)
            {
                if (field.ExpiresAtMs is long fieldExpiry)
                {
                    if (targetHasFieldTtl)
                    {
                        yield return new ValueCommand(new RedisCommand("HPEXPIREAT", key, fieldExpiry, "FIELDS", 1, field.Field));
                    }
                    else
                    {
                        fieldTtlDropped();
                    }
                }
            }
        }

        private static IEnumerable<ValueCommand> StreamCommands(byte[] key, RdbStreamValue stream)
        {
            if (stream.Entries.Count == 0)
            {
                // MKSTREAM on a throw-away group is the one command that makes an empty stream.
                yield return new ValueCommand(new RedisCommand("XGROUP", "CREATE", key, "__restore__", "0", "MKSTREAM"));
                yield return new ValueCommand(new RedisCommand("XGROUP", "DESTROY", key, "__restore__"));
            }
            foreach (var entry in stream.Entries)
            {
                var arguments = new List<RedisArgument>(2 + entry.Fields.Count * 2) { key, entry.Id.ToString() };
                foreach (var field in entry.Fields)
                {
                    arguments.Add(field.Key);
                    arguments.Add(field.Value);
                }
                yield return new ValueCommand(new RedisCommand("XADD", arguments));
            }
            var setId = new List<RedisArgument> { key, stream.LastId.ToString() };
            if (stream.EntriesAdded is ulong added)
            {
                setId.Add("ENTRIESADDED");
                setId.Add((long)added);
            }
            if (stream.MaxDeletedId is RdbStreamId maxDeleted)
            {
                setId.Add("MAXDELETEDID");
                setId.Add(maxDeleted.ToString());
            }
            yield return new ValueCommand(new RedisCommand("XSETID", setId));
            foreach (var group in stream.Groups)
            {
                var create = new List<RedisArgument> { "CREATE", key, group.Name, group.LastDeliveredId.ToString() };
                if (group.EntriesRead is ulong read)
                {
                    create.Add("ENTRIESREAD");
                    create.Add((long)read);
                }
                yield return new ValueCommand(new RedisCommand("XGROUP", create));
                var deliveries = new Dictionary<RdbStreamId, RdbStreamPendingEntry>();
                foreach (var pending in group.Pending)
                {
                    deliveries[pending.Id] = pending;
                }
                foreach (var consumer in group.Consumers)
                {
                    yield return new ValueCommand(new RedisCommand("XGROUP", "CREATECONSUMER", key, group.Name, consumer.Name), bestEffort: true);
                    foreach (var id in consumer.Pending)
                    {
                        // XCLAIM FORCE puts an existing entry into the consumer's pending list with its delivery facts.
                        var claim = new List<RedisArgument> { key, group.Name, consumer.Name, 0, id.ToString() };
                        if (deliveries.TryGetValue(id, out var delivery))
                        {
                            claim.Add("TIME");
                            claim.Add(delivery.DeliveryTimeMs);
                            claim.Add("RETRYCOUNT");
                            claim.Add((long)delivery.DeliveryCount);
                        }
                        claim.Add("FORCE");
                        claim.Add("JUSTID");
                        yield return new ValueCommand(new RedisCommand("XCLAIM", claim), bestEffort: true);
                    }
                }
            }
        }

        private static IEnumerable<ValueCommand> Chunked<T>(string name, byte[] key, IReadOnlyList<T> items, Func<T, RedisArgument[]> arguments, Func<T, long> size)
        {
            var chunk = new List<RedisArgument> { key };
            var elements = 0;
            long bytes = 0;
            foreach (var item in items)
            {
                chunk.AddRange(arguments(item));
                elements++;
                bytes += size(item);
                if (elements >= MaxElementsPerCommand || bytes >= MaxBytesPerCommand)
                {
                    yield return new ValueCommand(new RedisCommand(name, chunk));
                    chunk = new List<RedisArgument> { key };
                    elements = 0;
                    bytes = 0;
                }
            }
            if (elements > 0)
            {
                yield return new ValueCommand(new RedisCommand(name, chunk));
            }
        }

        /// <summary>A score as Redis parses it ("inf", "-inf", shortest round-trip decimal otherwise).</summary>
        private static RedisArgument Score(double score) =>
            double.IsPositiveInfinity(score) ? "inf"
            : double.IsNegativeInfinity(score) ? "-inf"
            : score.ToString("R", CultureInfo.InvariantCulture);
    }
}
