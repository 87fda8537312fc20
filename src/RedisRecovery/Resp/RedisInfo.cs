using System;
using System.Collections.Generic;
using System.Globalization;

namespace RedisRecovery.Resp
{
    /// <summary>The fields of an INFO reply ("name:value" lines; section headers and blank lines skipped).</summary>
    public sealed class RedisInfo
    {
        private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);

        public RedisInfo(string text)
        {
            foreach (var rawLine in text.Split('\n'))
            {
                var line = rawLine.TrimEnd('\r');
                var colon = line.IndexOf(':');
                if (line.Length == 0 || line[0] == '#' || colon <= 0)
                {
                    continue;
                }
                _fields[line.Substring(0, colon)] = line.Substring(colon + 1);
            }
        }

        public IEnumerable<KeyValuePair<string, string>> Fields => _fields;

        public string? this[string name] => _fields.TryGetValue(name, out var value) ? value : null;

        public long? GetInt64(string name) =>
            this[name] is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

        public bool GetFlag(string name) => this[name] == "1";

        /// <summary>A "key=value,key=value" field (db0, slave0) as pairs.</summary>
        public static Dictionary<string, string> ParseList(string value)
        {
            var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var part in value.Split(','))
            {
                var equals = part.IndexOf('=');
                if (equals > 0)
                {
                    pairs[part.Substring(0, equals)] = part.Substring(equals + 1);
                }
            }
            return pairs;
        }
    }
}
