using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Tests.Infrastructure;

namespace RedisRecovery.Tests.Rdb
{
    /// <summary>
    /// Decoded values against the expected output the source projects ship (HDT3213/rdb, redis/librdb, badboy/rdb-rs
    /// JSON): every key of the oracle is found with the same type of content and the same elements.
    /// </summary>
    public sealed class RdbOracleTests
    {
        public static IEnumerable<object[]> FilesWithOracle =>
            FixtureManifest.Rows(c => c.Kind == "rdb" && c.OraclePath != null && c.ExpectValid);

        [Theory]
        [MemberData(nameof(FilesWithOracle))]
        public async Task DecodedValues_MatchTheOracle(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            using var reader = new RdbReader(File.OpenRead(fixture.FullPath), new RdbReaderOptions { SourceName = fixture.FullPath });
            var entries = new List<(RdbEntry Entry, RdbValue Value)>();
            while (await reader.ReadEntryAsync() is RdbEntry entry)
            {
                entries.Add((entry, await entry.DecodeValueAsync()));
            }
            var oracle = Oracle.Load(fixture);
            var databases = entries.Select(e => e.Entry.Database).Distinct().OrderBy(d => d).ToList();
            var compared = 0;
            foreach (var expected in oracle.Keys)
            {
                var matches = entries.Where(e => e.Entry.KeyText == expected.Key
                    && (expected.DatabaseIndex is null || databases.IndexOf(e.Entry.Database) == expected.DatabaseIndex)
                    && (expected.Database is null || e.Entry.Database == expected.Database)).ToList();
                Assert.True(matches.Count > 0, $"key '{expected.Key}' of the oracle was not read");
                // Files with duplicate keys: the oracle shows one of them; any may match.
                var failures = matches.Select(m => Compare(m.Entry, m.Value, expected)).ToList();
                if (failures.All(f => f != null))
                {
                    Assert.Fail($"key '{expected.Key}': {failures[0]}");
                }
                compared++;
            }
            Assert.Equal(fixture.OracleKeys, oracle.Keys.Count);
            foreach (var code in oracle.FunctionCodes)
            {
                Assert.Contains(code, reader.Info.Functions.Select(f => Encoding.UTF8.GetString(f.Code)));
            }
            Assert.Equal(oracle.Keys.Count, compared);
        }

        private static string? Compare(RdbEntry entry, RdbValue value, OracleKey expected)
        {
            var json = expected.Value;
            switch (value)
            {
                case RdbStringValue s:
                    return Same(Text(s.Value), json.GetString());
                case RdbListValue l:
                    return Same(string.Join("\n", l.Items.Select(Text)), string.Join("\n", json.EnumerateArray().Select(Scalar)));
                case RdbSetValue s:
                    return Same(Sorted(s.Members.Select(Text)), Sorted(json.EnumerateArray().Select(Scalar)));
                case RdbHashValue h:
                    var fields = Sorted(h.Fields.Select(f => Text(f.Field) + "=" + Text(f.Value)));
                    var difference = Same(fields, Sorted(json.EnumerateObject().Select(p => p.Name + "=" + Scalar(p.Value))));
                    if (difference is null && expected.FieldExpiry is JsonElement expiry)
                    {
                        difference = Same(Sorted(h.Fields.Select(f => Text(f.Field) + "@" + (f.ExpiresAtMs ?? 0))),
                            Sorted(expiry.EnumerateObject().Select(p => p.Name + "@" + p.Value.GetInt64())));
                    }
                    return difference;
                case RdbSortedSetValue z:
                    var ours = z.Members.ToDictionary(m => Text(m.Member), m => m.Score);
                    var theirs = json.ValueKind == JsonValueKind.Object
                        ? json.EnumerateObject().Select(p => (p.Name, Score: Number(p.Value)))
                        : json.EnumerateArray().Select(e => (Name: e.GetProperty("member").GetString()!, Score: Number(e.GetProperty("score"))));
                    var list = theirs.ToList();
                    if (list.Count != ours.Count)
                    {
                        return $"{ours.Count} members, the oracle has {list.Count}";
                    }
                    var wrong = list.FirstOrDefault(t => !ours.TryGetValue(t.Name, out var score) || !(score == t.Score || Math.Abs(score - t.Score) <= Math.Abs(t.Score) * 1e-12));
                    return wrong.Name is null ? null : $"member '{wrong.Name}' differs";
                case RdbStreamValue x:
                    // The oracles are JSON objects, so an entry that repeats a field shows it once there.
                    var ourEntries = string.Join("\n", x.Entries.Select(e => e.Id + " " + string.Join(",", e.Fields.Select(f => Text(f.Key) + "=" + Text(f.Value)).Distinct())));
                    var oracleEntries = json.ValueKind == JsonValueKind.Array
                        ? json.EnumerateArray().SelectMany(node => node.GetProperty("msgs").EnumerateArray())
                            .Where(m => !m.GetProperty("deleted").GetBoolean())
                            .Select(m => m.GetProperty("id").GetString() + " " + string.Join(",", m.GetProperty("fields").EnumerateObject().Select(p => p.Name + "=" + Scalar(p.Value))))
                        : json.GetProperty("entries").EnumerateArray()
                            .Select(m => m.GetProperty("id").GetString() + " " + string.Join(",", m.GetProperty("items").EnumerateObject().Select(p => p.Name + "=" + Scalar(p.Value))));
                    return Same(ourEntries, string.Join("\n", oracleEntries));
                case RdbModuleValue m:
                    return json.GetString()!.Contains(m.ModuleName) ? null : $"module '{m.ModuleName}' not named in the oracle";
                default:
                    return $"unexpected {entry.Type}";
            }
        }

        private static string? Same(string ours, string? theirs) => ours == theirs ? null : $"decoded '{Shorten(ours)}', the oracle has '{Shorten(theirs)}'";

        private static string Shorten(string? text) => text is null ? "(null)" : text.Length > 120 ? text.Substring(0, 120) + "..." : text;

        private static string Sorted(IEnumerable<string> items) => string.Join("\n", items.OrderBy(i => i, StringComparer.Ordinal));

        private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

        private static string Scalar(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();

        private static double Number(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Number)
            {
                return element.GetDouble();
            }
            var text = element.GetString()!;
            return text switch
            {
                "inf" or "+inf" => double.PositiveInfinity,
                "-inf" => double.NegativeInfinity,
                _ => double.Parse(text, System.Globalization.CultureInfo.InvariantCulture),
            };
        }

        private sealed record OracleKey(string Key, JsonElement Value, int? Database, int? DatabaseIndex, JsonElement? FieldExpiry);

        private sealed class Oracle
        {
            public List<OracleKey> Keys { get; } = new();

            public List<string> FunctionCodes { get; } = new();

            public static Oracle Load(FixtureCase fixture)
            {
                var text = File.ReadAllText(fixture.OraclePath!);
                var oracle = new Oracle();
                var options = new JsonDocumentOptions { AllowTrailingCommas = true };
                if (fixture.Note.Contains("oracle from HDT3213/rdb"))
                {
                    foreach (var item in JsonDocument.Parse(text, options).RootElement.EnumerateArray())
                    {
                        var type = item.GetProperty("type").GetString();
                        if (type is "aux" or "functions")
                        {
                            continue;
                        }
                        var value = type switch
                        {
                            "string" => item.GetProperty("value"),
                            "list" => item.GetProperty("values"),
                            "set" => item.GetProperty("members"),
                            "hash" => item.GetProperty("hash"),
                            _ => item.GetProperty("entries"),
                        };
                        oracle.Keys.Add(new OracleKey(item.GetProperty("key").GetString()!, value.Clone(), item.GetProperty("db").GetInt32(), null,
                            item.TryGetProperty("expire", out var expire) ? expire.Clone() : null));
                    }
                    return oracle;
                }
                // librdb and badboy: objects of "key": value, either one per database in an array, or flattened members.
                var root = JsonDocument.Parse(text.TrimStart().StartsWith("[") ? text : "{" + text + "}", options).RootElement;
                var databases = root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToList() : new List<JsonElement> { root };
                for (var index = 0; index < databases.Count; index++)
                {
                    foreach (var member in databases[index].EnumerateObject())
                    {
                        if (member.Name == "__func__")
                        {
                            oracle.FunctionCodes.AddRange(member.Value.EnumerateObject().Select(f => f.Value.GetString()!));
                        }
                        else if (!member.Name.StartsWith("__", StringComparison.Ordinal) || !member.Name.EndsWith("__", StringComparison.Ordinal))
                        {
                            oracle.Keys.Add(new OracleKey(member.Name, member.Value.Clone(), null, root.ValueKind == JsonValueKind.Array ? index : null, null));
                        }
                    }
                }
                return oracle;
            }
        }
    }
}
