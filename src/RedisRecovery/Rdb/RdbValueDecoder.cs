using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>Decodes a serialized value (an entry's value bytes, or the body of a DUMP payload) into its elements.</summary>
    public static class RdbValueDecoder
    {
        public static ValueTask<RdbValue> DecodeAsync(byte typeId, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) =>
            DecodeAsync(typeId, OpenMemory(value), "serialized value", cancellationToken);

        /// <summary>Decodes a value read from <paramref name="value"/>, which must hold exactly one serialized value.</summary>
        public static async ValueTask<RdbValue> DecodeAsync(byte typeId, Stream value, string sourceName, CancellationToken cancellationToken = default)
        {
            var collector = new RdbValueCollector(RdbFormat.ValueTypeOf(typeId));
            await WalkAsync(typeId, value, sourceName, 0, collector, cancellationToken).ConfigureAwait(false);
            return collector.Value;
        }

        /// <summary>Hands each element of a held serialized value to <paramref name="sink"/> as it is decoded.</summary>
        internal static ValueTask WalkAsync(byte typeId, ReadOnlyMemory<byte> value, IRdbElementSink sink, CancellationToken cancellationToken) =>
            WalkAsync(typeId, OpenMemory(value), "serialized value", 0, sink, cancellationToken);

        /// <summary>Hands each element of the value read from <paramref name="value"/> (exactly one serialized value) to
        /// <paramref name="sink"/> as it is decoded: memory stays at one element or packed node, whatever the value's size.
        /// Errors name <paramref name="sourceName"/> and offsets counted from <paramref name="baseOffset"/>.</summary>
        internal static ValueTask WalkAsync(byte typeId, Stream value, string sourceName, long baseOffset, IRdbElementSink sink, CancellationToken cancellationToken) =>
            WalkAsync(value, sourceName, baseOffset, async walker => await walker.WalkValueAsync(typeId, sink, cancellationToken).ConfigureAwait(false), cancellationToken);

        /// <summary>Runs <paramref name="walk"/> over <paramref name="value"/>, which must hold exactly one serialized value.</summary>
        internal static async ValueTask WalkAsync(Stream value, string sourceName, long baseOffset, Func<RdbValueWalker, ValueTask> walk, CancellationToken cancellationToken)
        {
            using var input = new RdbInput(value, sourceName, baseOffset, 16 * 1024);
            await walk(new RdbValueWalker(input, validate: true, blobLimit: int.MaxValue - 64)).ConfigureAwait(false);
            if (await input.TryEnsureAsync(1, cancellationToken).ConfigureAwait(false) > 0)
            {
                throw input.Corrupt("bytes left after the end of the value", input.Position);
            }
        }

        internal static MemoryStream OpenMemory(ReadOnlyMemory<byte> value)
        {
            var segment = MemoryMarshal.TryGetArray(value, out var array) ? array : new ArraySegment<byte>(value.ToArray());
            return new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        }

        /// <summary>Collects the elements the walker hands over into an <see cref="RdbValue"/>.</summary>
        private sealed class RdbValueCollector : IRdbElementSink
        {
            private readonly RdbValueType _type;
            private readonly List<byte[]> _items = new();
            private readonly List<RdbSortedSetMember> _members = new();
            private readonly List<RdbHashField> _fields = new();
            private readonly RdbStreamValue _stream = new();
            private RdbValue? _whole;

            public RdbValueCollector(RdbValueType type) => _type = type;

            public RdbValue Value => _whole ?? _type switch
            {
                RdbValueType.List => new RdbListValue(_items),
                RdbValueType.Set => new RdbSetValue(_items),
                RdbValueType.SortedSet => new RdbSortedSetValue(_members),
                RdbValueType.Hash => new RdbHashValue(_fields),
                RdbValueType.Stream => _stream,
                _ => throw new InvalidOperationException($"no {_type} value was decoded"),
            };

            public ValueTask StringAsync(byte[] value, CancellationToken cancellationToken)
            {
                _whole = new RdbStringValue(value);
                return default;
            }

            public ValueTask ListItemAsync(byte[] item, CancellationToken cancellationToken)
            {
                _items.Add(item);
                return default;
            }

            public ValueTask SetMemberAsync(byte[] member, CancellationToken cancellationToken)
            {
                _items.Add(member);
                return default;
            }

            public ValueTask SortedSetMemberAsync(RdbSortedSetMember member, CancellationToken cancellationToken)
            {
                _members.Add(member);
                return default;
            }

            public ValueTask HashFieldAsync(RdbHashField field, CancellationToken cancellationToken)
            {
                _fields.Add(field);
                return default;
            }

            public ValueTask StreamEntryAsync(RdbStreamEntry entry, CancellationToken cancellationToken)
            {
                _stream.Entries.Add(entry);
                return default;
            }

            public ValueTask StreamInfoAsync(RdbStreamInfo info, CancellationToken cancellationToken)
            {
                _stream.Length = info.Length;
                _stream.LastId = info.LastId;
                _stream.FirstId = info.FirstId;
                _stream.MaxDeletedId = info.MaxDeletedId;
                _stream.EntriesAdded = info.EntriesAdded;
                return default;
            }

            public ValueTask StreamGroupAsync(RdbStreamGroup group, CancellationToken cancellationToken)
            {
                _stream.Groups.Add(group);
                return default;
            }

            public ValueTask StreamProducerAsync(RdbStreamProducer producer, CancellationToken cancellationToken)
            {
                _stream.Producers.Add(producer);
                return default;
            }

            public ValueTask ModuleAsync(ulong moduleId, CancellationToken cancellationToken)
            {
                _whole = new RdbModuleValue(moduleId);
                return default;
            }
        }
    }
}
