using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Resp
{
    /// <summary>The fields of an INFO reply ("name:value" lines; section headers and blank lines dropped).</summary>
    public sealed class RedisInfo
    {
        private readonly Dictionary<string, string> _fields;

        private RedisInfo(Dictionary<string, string> fields)
        {
            _fields = fields;
        }

        public IReadOnlyDictionary<string, string> Fields => _fields;

        public static RedisInfo Parse(string text)
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var rawLine in text.Split('\n'))
            {
                var line = rawLine.TrimEnd('\r');
                var colon = line.IndexOf(':');
                if (line.Length == 0 || line[0] == '#' || colon <= 0)
                {
                    continue;
                }
                fields[line.Substring(0, colon)] = line.Substring(colon + 1);
            }
            return new RedisInfo(fields);
        }

        /// <summary>Runs INFO <paramref name="section"/> on the connection and parses the reply.</summary>
        public static async Task<RedisInfo> ReadAsync(RedisConnection connection, string section, CancellationToken cancellationToken)
        {
            var reply = await connection.ExecuteAsync(new RedisCommand("INFO", section), cancellationToken).ConfigureAwait(false);
            return Parse(reply.AsString() ?? string.Empty);
        }

        public string? Get(string name) => _fields.TryGetValue(name, out var value) ? value : null;

        public long? GetInt64(string name) =>
            long.TryParse(Get(name), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

        /// <summary>
        /// Keys per database from INFO keyspace ("db3:keys=10,expires=2,avg_ttl=0"): only databases that hold keys
        /// are listed, which tells a logical copy which databases to SCAN.
        /// </summary>
        public IReadOnlyDictionary<int, long> KeysPerDatabase()
        {
            var keys = new SortedDictionary<int, long>();
            foreach (var pair in _fields)
            {
                if (!pair.Key.StartsWith("db", StringComparison.Ordinal) ||
                    !int.TryParse(pair.Key.Substring(2), NumberStyles.None, CultureInfo.InvariantCulture, out var database))
                {
                    continue;
                }
                foreach (var part in pair.Value.Split(','))
                {
                    if (part.StartsWith("keys=", StringComparison.Ordinal) &&
                        long.TryParse(part.Substring(5), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                    {
                        keys[database] = count;
                    }
                }
            }
            return keys;
        }
    }
}
