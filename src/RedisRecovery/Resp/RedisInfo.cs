using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

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

        /// <summary>Runs INFO <paramref name="section"/> on the connection and parses the reply.</summary>
        public static async Task<RedisInfo> ReadAsync(RedisConnection connection, string section, CancellationToken cancellationToken)
        {
            var reply = await connection.ExecuteAsync(new RedisCommand("INFO", section), cancellationToken).ConfigureAwait(false);
            return new RedisInfo(reply.AsString() ?? string.Empty);
        }

        /// <summary>
        /// Keys per database from the keyspace section ("db3:keys=10,expires=2,avg_ttl=0"): only databases that
        /// hold keys are listed.
        /// </summary>
        public IReadOnlyDictionary<int, long> KeysPerDatabase()
        {
            var keys = new SortedDictionary<int, long>();
            foreach (var field in _fields)
            {
                if (field.Key.StartsWith("db", StringComparison.Ordinal) &&
                    int.TryParse(field.Key.Substring(2), NumberStyles.None, CultureInfo.InvariantCulture, out var database) &&
                    ParseList(field.Value).TryGetValue("keys", out var text) &&
                    long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                {
                    keys[database] = count;
                }
            }
            return keys;
        }

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
