using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RedisRecovery.Resp
{
    /// <summary>The wire type of a reply, RESP2 and RESP3.</summary>
    public enum RespType
    {
        SimpleString,
        Error,
        Integer,
        BulkString,
        Array,
        Null,
        Map,
        Set,
        Double,
        Boolean,
        VerbatimString,
        BigNumber,
        Push,
        Attribute,
    }

    /// <summary>
    /// One reply from the server. Strings stay bytes (keys and values are binary); <see cref="AsString"/> decodes
    /// UTF-8 for the textual replies (INFO, CONFIG GET, status lines). Maps keep their pairs in wire order as a flat
    /// list of items: key, value, key, value.
    /// </summary>
    public sealed class RespValue
    {
        private static readonly IReadOnlyList<RespValue> NoItems = Array.Empty<RespValue>();

        /// <summary>The "+OK" simple string (shared: bulk loads read millions of them).</summary>
        public static readonly RespValue Ok = FromBytes(RespType.SimpleString, new[] { (byte)'O', (byte)'K' });

        public static readonly RespValue Null = new(RespType.Null, null, 0, 0, NoItems);

        private RespValue(RespType type, byte[]? bytes, long integer, double number, IReadOnlyList<RespValue> items)
        {
            Type = type;
            Bytes = bytes;
            Integer = integer;
            Double = number;
            Items = items;
        }

        public RespType Type { get; }

        /// <summary>The payload of a simple string, error, bulk string, verbatim string (without its format prefix) or big number.</summary>
        public byte[]? Bytes { get; }

        /// <summary>The value of an integer, or 1/0 for a boolean.</summary>
        public long Integer { get; }

        public double Double { get; }

        /// <summary>Elements of an array, set or push; key/value pairs flattened for a map or attribute.</summary>
        public IReadOnlyList<RespValue> Items { get; }

        /// <summary>The three-letter format of a verbatim string ("txt", "mkd"), otherwise null.</summary>
        public string? VerbatimFormat { get; private init; }

        public bool IsNull => Type == RespType.Null;

        public bool IsError => Type == RespType.Error;

        /// <summary>True for types whose payload is <see cref="Items"/>.</summary>
        public bool IsAggregate => Type is RespType.Array or RespType.Map or RespType.Set or RespType.Push or RespType.Attribute;

        public bool Boolean => Integer != 0;

        public static RespValue FromInteger(long value) => new(RespType.Integer, null, value, 0, NoItems);

        public static RespValue FromDouble(double value) => new(RespType.Double, null, 0, value, NoItems);

        public static RespValue FromBoolean(bool value) => new(RespType.Boolean, null, value ? 1 : 0, 0, NoItems);

        public static RespValue Bulk(byte[] bytes) => new(RespType.BulkString, bytes, 0, 0, NoItems);

        public static RespValue Verbatim(string format, byte[] bytes) => new(RespType.VerbatimString, bytes, 0, 0, NoItems) { VerbatimFormat = format };

        public static RespValue FromBytes(RespType type, byte[] bytes) => new(type, bytes, 0, 0, NoItems);

        public static RespValue Aggregate(RespType type, IReadOnlyList<RespValue> items) => new(type, null, 0, 0, items);

        /// <summary>UTF-8 text of a string-like reply, the number as text for numeric replies, null for null and aggregates.</summary>
        public string? AsString() => Type switch
        {
            RespType.Integer => Integer.ToString(CultureInfo.InvariantCulture),
            RespType.Double => Double.ToString("R", CultureInfo.InvariantCulture),
            RespType.Boolean => Boolean ? "true" : "false",
            _ => Bytes is null ? null : Encoding.UTF8.GetString(Bytes),
        };

        /// <summary>
        /// Pairs of a map reply; a RESP2 array of alternating keys and values (HELLO, CONFIG GET under RESP2) reads the same.
        /// </summary>
        public IEnumerable<KeyValuePair<RespValue, RespValue>> AsPairs()
        {
            for (var i = 0; i + 1 < Items.Count; i += 2)
            {
                yield return new KeyValuePair<RespValue, RespValue>(Items[i], Items[i + 1]);
            }
        }

        /// <summary>A short description for diagnostics. Never includes the payload: values can hold secrets.</summary>
        public override string ToString() => Type switch
        {
            RespType.Integer => $"Integer {Integer}",
            RespType.Double => $"Double {Double.ToString("R", CultureInfo.InvariantCulture)}",
            RespType.Boolean => $"Boolean {Boolean}",
            RespType.Null => "Null",
            RespType.SimpleString or RespType.Error => $"{Type} {AsString()}",
            _ when IsAggregate => $"{Type} of {Items.Count}",
            _ => $"{Type} of {Bytes?.Length ?? 0} bytes",
        };
    }
}
