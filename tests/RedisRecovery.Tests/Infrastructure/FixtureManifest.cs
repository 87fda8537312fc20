using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace RedisRecovery.Tests.Infrastructure
{
    /// <summary>
    /// The rows of shared/fixtures/MANIFEST.tsv. Tests iterate over every row of a kind, so a file added to the
    /// manifest is tested without a code change. The folder is $REDISRECOVERY_FIXTURES, else ../shared/fixtures
    /// beside the repository.
    /// </summary>
    public sealed class FixtureCase
    {
        private readonly Dictionary<string, string> _columns;

        internal FixtureCase(Dictionary<string, string> columns)
        {
            _columns = columns;
        }

        public string RelativePath => _columns["path"];

        public string FullPath => Path.Combine(FixtureManifest.Directory, RelativePath);

        public string Kind => _columns["kind"];

        public string Expect => _columns["expect"];

        public bool ExpectValid => Expect == "valid";

        public string NativeLoad => _columns["native_load"];

        public bool NativeLoadOk => NativeLoad == "ok";

        public string RdbVersion => _columns["rdb_version"];

        public long? KeysRead => Number("keys_read");

        public long? Expires => Number("expires");

        public long? AlreadyExpired => Number("already_expired");

        /// <summary>Keys per database after a native load; empty when the server held no keys; null when it did not load.</summary>
        public IReadOnlyDictionary<int, long>? DbSize
        {
            get
            {
                var text = _columns["dbsize"];
                if (text == "-")
                {
                    return null;
                }
                if (text == "empty")
                {
                    return new Dictionary<int, long>();
                }
                return text.Split(';').Select(part => part.Split('='))
                    .ToDictionary(pair => int.Parse(pair[0]), pair => long.Parse(pair[1]));
            }
        }

        public string? Digest => Optional("digest");

        public string? OraclePath => Optional("oracle") is string oracle ? Path.Combine(FixtureManifest.Directory, oracle) : null;

        public long? OracleKeys => Number("oracle_keys");

        public IReadOnlyList<string> Features =>
            Optional("features") is string features ? features.Split(',') : Array.Empty<string>();

        public string Note => _columns["note"];

        public bool IsTimeDependent => Note.Contains("TIME-DEPENDENT");

        public string this[string column] => _columns[column];

        public override string ToString() => RelativePath;

        private string? Optional(string column) => _columns[column] == "-" ? null : _columns[column];

        private long? Number(string column) => Optional(column) is string text ? long.Parse(text) : null;
    }

    public static class FixtureManifest
    {
        private static readonly Lazy<IReadOnlyList<FixtureCase>> s_cases = new(Load);

        public static string Directory { get; } = Path.GetFullPath(
            Environment.GetEnvironmentVariable("REDISRECOVERY_FIXTURES") is { Length: > 0 } configured
                ? configured
                : Path.Combine(RepositoryRoot.Path, "..", "shared", "fixtures"));

        public static IReadOnlyList<FixtureCase> Cases => s_cases.Value;

        public static FixtureCase Get(string relativePath) => Cases.Single(c => c.RelativePath == relativePath);

        /// <summary>xUnit MemberData rows: the relative path only, so test names stay readable.</summary>
        public static IEnumerable<object[]> Rows(Func<FixtureCase, bool> predicate) =>
            Cases.Where(predicate).Select(c => new object[] { c.RelativePath });

        private static IReadOnlyList<FixtureCase> Load()
        {
            var lines = File.ReadAllLines(Path.Combine(Directory, "MANIFEST.tsv"));
            var header = lines[0].Split('\t');
            return lines.Skip(1).Where(line => line.Length > 0).Select(line =>
            {
                var fields = line.Split('\t');
                var columns = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var i = 0; i < header.Length; i++)
                {
                    columns[header[i]] = i < fields.Length ? fields[i] : "-";
                }
                return new FixtureCase(columns);
            }).ToList();
        }
    }

    /// <summary>The repository root, found by walking up from the test assembly to RedisRecovery.sln.</summary>
    public static class RepositoryRoot
    {
        public static string Path { get; } = Find();

        private static string Find()
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory != null && !File.Exists(System.IO.Path.Combine(directory.FullName, "RedisRecovery.sln")))
            {
                directory = directory.Parent;
            }
            return directory?.FullName ?? throw new InvalidOperationException("RedisRecovery.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
