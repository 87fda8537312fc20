using System;
using System.Collections.Generic;
using System.Text;

namespace RedisRecovery.Aof
{
    /// <summary>
    /// Turns the first argument of each command into an upper-case name without allocating a string per command:
    /// an AOF uses a handful of distinct commands, so a short table compared byte by byte serves them all.
    /// Anything that does not look like a command name is reported as <see cref="Unreadable"/>, never echoed,
    /// because a damaged file can put value bytes where the name should be.
    /// </summary>
    internal sealed class CommandNameTable
    {
        public const string Unreadable = "(unreadable)";
        private const int MaxEntries = 512;
        private readonly List<KeyValuePair<byte[], string>> _entries = new();

        public string Lookup(ReadOnlySpan<byte> raw, bool tooLong)
        {
            if (tooLong || raw.Length == 0)
            {
                return Unreadable;
            }
            foreach (var entry in _entries)
            {
                if (EqualsIgnoreCase(entry.Key, raw))
                {
                    return entry.Value;
                }
            }
            var upper = new byte[raw.Length];
            for (var i = 0; i < raw.Length; i++)
            {
                var b = raw[i];
                if (b >= (byte)'a' && b <= (byte)'z')
                {
                    b -= 32;
                }
                else if (!(b >= (byte)'A' && b <= (byte)'Z') && !(b >= (byte)'0' && b <= (byte)'9') && b != (byte)'-' && b != (byte)'_' && b != (byte)'|' && b != (byte)'.')
                {
                    return Unreadable;
                }
                upper[i] = b;
            }
            var name = Encoding.ASCII.GetString(upper);
            if (_entries.Count < MaxEntries)
            {
                _entries.Add(new KeyValuePair<byte[], string>(upper, name));
            }
            return name;
        }

        private static bool EqualsIgnoreCase(byte[] upper, ReadOnlySpan<byte> raw)
        {
            if (upper.Length != raw.Length)
            {
                return false;
            }
            for (var i = 0; i < raw.Length; i++)
            {
                var b = raw[i];
                if (b >= (byte)'a' && b <= (byte)'z')
                {
                    b -= 32;
                }
                if (b != upper[i])
                {
                    return false;
                }
            }
            return true;
        }
    }
}
