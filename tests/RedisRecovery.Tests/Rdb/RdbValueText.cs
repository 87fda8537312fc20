using System;
using System.Globalization;
using System.Linq;
using System.Text;
using RedisRecovery.Rdb;

namespace RedisRecovery.Tests.Rdb
{
    /// <summary>A canonical text of a decoded value, so two values compare equal whatever the element order of their
    /// unordered types (sets and hashes come back from a server in its own order).</summary>
    internal static class RdbValueText
    {
        public static string Describe(RdbValue value) => value switch
        {
            RdbStringValue s => "string:" + Text(s.Value),
            RdbListValue l => "list:" + string.Join(",", l.Items.Select(Text)),
            RdbSetValue s => "set:" + string.Join(",", s.Members.Select(Text).OrderBy(t => t, StringComparer.Ordinal)),
            RdbSortedSetValue z => "zset:" + string.Join(",", z.Members.Select(m => Text(m.Member) + "=" + m.Score.ToString("R", CultureInfo.InvariantCulture)).OrderBy(t => t, StringComparer.Ordinal)),
            RdbHashValue h => "hash:" + string.Join(",", h.Fields.Select(f => Text(f.Field) + "=" + Text(f.Value) + (f.ExpiresAtMs is long e ? "@" + e : "")).OrderBy(t => t, StringComparer.Ordinal)),
            RdbStreamValue x => "stream:" + x.Length + ":" + x.LastId + ":" + string.Join(",", x.Entries.Select(e => e.Id + "{" + string.Join(",", e.Fields.Select(f => Text(f.Key) + "=" + Text(f.Value))) + "}"))
                + ":groups:" + string.Join(",", x.Groups.Select(g => Text(g.Name) + "@" + g.LastDeliveredId + "/" + g.Pending.Count + "/" + string.Join("+", g.Consumers.Select(c => Text(c.Name) + "#" + c.Pending.Count)))),
            RdbModuleValue m => "module:" + m.ModuleName,
            _ => throw new ArgumentOutOfRangeException(nameof(value)),
        };

        private static string Text(byte[] bytes) => Convert.ToBase64String(bytes);
    }
}
