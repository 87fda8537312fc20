using System.Collections.Generic;

namespace RedisRecovery.Rdb
{
    /// <summary>A value decoded into its elements (on demand: the reader itself only keeps serialized bytes).</summary>
    public abstract class RdbValue
    {
        public abstract RdbValueType Type { get; }
    }

    public sealed class RdbStringValue : RdbValue
    {
        public RdbStringValue(byte[] value) => Value = value;

        public override RdbValueType Type => RdbValueType.String;

        public byte[] Value { get; }
    }

    public sealed class RdbListValue : RdbValue
    {
        public RdbListValue(IReadOnlyList<byte[]> items) => Items = items;

        public override RdbValueType Type => RdbValueType.List;

        public IReadOnlyList<byte[]> Items { get; }
    }

    public sealed class RdbSetValue : RdbValue
    {
        public RdbSetValue(IReadOnlyList<byte[]> members) => Members = members;

        public override RdbValueType Type => RdbValueType.Set;

        public IReadOnlyList<byte[]> Members { get; }
    }

    public sealed record RdbSortedSetMember(byte[] Member, double Score);

    public sealed class RdbSortedSetValue : RdbValue
    {
        public RdbSortedSetValue(IReadOnlyList<RdbSortedSetMember> members) => Members = members;

        public override RdbValueType Type => RdbValueType.SortedSet;

        public IReadOnlyList<RdbSortedSetMember> Members { get; }
    }

    /// <summary>A hash field; <see cref="ExpiresAtMs"/> is the absolute field expiry of Redis 7.4+ hashes, if any.</summary>
    public sealed record RdbHashField(byte[] Field, byte[] Value, long? ExpiresAtMs = null);

    public sealed class RdbHashValue : RdbValue
    {
        public RdbHashValue(IReadOnlyList<RdbHashField> fields) => Fields = fields;

        public override RdbValueType Type => RdbValueType.Hash;

        public IReadOnlyList<RdbHashField> Fields { get; }
    }

    public readonly record struct RdbStreamId(ulong Milliseconds, ulong Sequence)
    {
        public override string ToString() => $"{Milliseconds}-{Sequence}";
    }

    public sealed record RdbStreamEntry(RdbStreamId Id, IReadOnlyList<KeyValuePair<byte[], byte[]>> Fields);

    public sealed record RdbStreamPendingEntry(RdbStreamId Id, long DeliveryTimeMs, ulong DeliveryCount);

    public sealed record RdbStreamConsumer(byte[] Name, long SeenTimeMs, long? ActiveTimeMs, IReadOnlyList<RdbStreamId> Pending);

    public sealed record RdbStreamGroup(
        byte[] Name,
        RdbStreamId LastDeliveredId,
        ulong? EntriesRead,
        IReadOnlyList<RdbStreamPendingEntry> Pending,
        IReadOnlyList<RdbStreamConsumer> Consumers);

    /// <summary>An idempotent producer of a Redis 8 stream (XADD IDMP): its recent idempotency ids.</summary>
    public sealed record RdbStreamProducer(byte[] Name, IReadOnlyList<KeyValuePair<byte[], RdbStreamId>> Ids);

    public sealed class RdbStreamValue : RdbValue
    {
        public override RdbValueType Type => RdbValueType.Stream;

        public List<RdbStreamEntry> Entries { get; } = new();

        public ulong Length { get; internal set; }

        public RdbStreamId LastId { get; internal set; }

        public RdbStreamId? FirstId { get; internal set; }

        public RdbStreamId? MaxDeletedId { get; internal set; }

        public ulong? EntriesAdded { get; internal set; }

        public List<RdbStreamGroup> Groups { get; } = new();

        public List<RdbStreamProducer> Producers { get; } = new();
    }

    /// <summary>A module value: opaque to this engine, identified by the module type name and encoding version.</summary>
    public sealed class RdbModuleValue : RdbValue
    {
        public RdbModuleValue(ulong moduleId)
        {
            ModuleId = moduleId;
            ModuleName = RdbModuleNames.NameOf(moduleId);
        }

        public override RdbValueType Type => RdbValueType.Module;

        public ulong ModuleId { get; }

        public string ModuleName { get; }

        public int EncodingVersion => (int)(ModuleId & 1023);
    }

    internal static class RdbModuleNames
    {
        private const string Charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        /// <summary>A module id packs a 9-character type name (6 bits each) above a 10-bit encoding version.</summary>
        public static string NameOf(ulong moduleId)
        {
            var name = new char[9];
            var bits = moduleId >> 10;
            for (var i = 8; i >= 0; i--)
            {
                name[i] = Charset[(int)(bits & 63)];
                bits >>= 6;
            }
            return new string(name);
        }
    }
}
