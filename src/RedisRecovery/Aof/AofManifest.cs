using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Aof
{
    public enum AofFileType
    {
        Base,
        History,
        Incremental,
    }

    /// <summary>One "file &lt;name&gt; seq &lt;n&gt; type b|h|i" line of a Redis 7 multi-part AOF manifest.</summary>
    public sealed record AofManifestEntry(string FileName, long Sequence, AofFileType Type, int LineNumber);

    /// <summary>A manifest that Redis 7.0 would refuse; names the manifest file and the line.</summary>
    public sealed class AofManifestException : RedisRecoveryException
    {
        public AofManifestException(string manifestPath, string message)
            : base("AofManifestInvalid", FailureKind.CorruptData, $"{manifestPath}: {message}")
        {
            Target = manifestPath;
            ManifestPath = manifestPath;
            Problem = message;
        }

        public string ManifestPath { get; }

        /// <summary>What is wrong, without the path.</summary>
        public string Problem { get; }
    }

    /// <summary>
    /// The manifest of a multi-part AOF directory, parsed as strictly as redis-server 7.0 loads it (every rule it
    /// enforces is enforced here), keeping the original lines so a repair can drop entries without reformatting.
    /// </summary>
    public sealed class AofManifest
    {
        public const string Suffix = ".manifest";
        private const int MaxLine = 1024;
        private readonly IReadOnlyList<string> _lines;
        private readonly bool _endsWithNewline;

        private AofManifest(string path, IReadOnlyList<string> lines, bool endsWithNewline, IReadOnlyList<AofManifestEntry> entries)
        {
            Path = path;
            _lines = lines;
            _endsWithNewline = endsWithNewline;
            Entries = entries;
        }

        public string Path { get; }

        public string Directory => System.IO.Path.GetDirectoryName(Path) ?? ".";

        /// <summary>The appendfilename the manifest belongs to (its name without ".manifest").</summary>
        public string BaseName => System.IO.Path.GetFileName(Path).Substring(0, System.IO.Path.GetFileName(Path).Length - Suffix.Length);

        public IReadOnlyList<AofManifestEntry> Entries { get; }

        /// <summary>The files Redis loads, in load order: the base, then incremental files by sequence.</summary>
        public IReadOnlyList<AofManifestEntry> LoadOrder =>
            Entries.Where(e => e.Type == AofFileType.Base).Concat(Entries.Where(e => e.Type == AofFileType.Incremental)).ToList();

        public static async Task<AofManifest> LoadAsync(string path, CancellationToken cancellationToken)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, useAsync: true);
            if (stream.Length > 16 * 1024 * 1024)
            {
                throw new AofManifestException(path, "the manifest is larger than any manifest Redis writes");
            }
            using var reader = new StreamReader(stream, new UTF8Encoding(false));
            cancellationToken.ThrowIfCancellationRequested();
            return Parse(path, await reader.ReadToEndAsync().ConfigureAwait(false));
        }

        public static AofManifest Parse(string path, string text)
        {
            var endsWithNewline = text.EndsWith("\n", StringComparison.Ordinal);
            var lines = text.Split('\n').ToList();
            if (endsWithNewline)
            {
                lines.RemoveAt(lines.Count - 1);
            }
            var entries = new List<AofManifestEntry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            long lastIncrementalSequence = 0;
            for (var index = 0; index < lines.Count; index++)
            {
                var lineNumber = index + 1;
                var line = lines[index];
                if (line.StartsWith("#", StringComparison.Ordinal))
                {
                    continue;
                }
                if (line.Length + 1 > MaxLine || (index == lines.Count - 1 && !endsWithNewline))
                {
                    throw Invalid(path, lineNumber, line.Length + 1 > MaxLine ? "the line is longer than 1024 bytes" : "the last line has no newline (the manifest is cut short)");
                }
                var tokens = Tokenize(path, lineNumber, line.Trim(' ', '\t', '\r'));
                if (tokens.Count < 6 || tokens.Count % 2 != 0)
                {
                    throw Invalid(path, lineNumber, "expected 'file <name> seq <n> type <b|h|i>'");
                }
                string? name = null;
                long sequence = 0;
                char? type = null;
                for (var i = 0; i < tokens.Count; i += 2)
                {
                    switch (tokens[i].ToLowerInvariant())
                    {
                        case "file":
                            name = tokens[i + 1];
                            if (name.Length == 0 || name.IndexOfAny(new[] { '/', '\\' }) >= 0 || name == "." || name == "..")
                            {
                                throw Invalid(path, lineNumber, "the file must be a plain file name, not a path");
                            }
                            break;
                        case "seq":
                            if (!long.TryParse(tokens[i + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence) || sequence == 0)
                            {
                                throw Invalid(path, lineNumber, "seq must be a positive integer");
                            }
                            break;
                        case "type":
                            type = tokens[i + 1].Length == 1 ? tokens[i + 1][0] : '?';
                            break;
                    }
                }
                if (name == null || sequence == 0 || type == null)
                {
                    throw Invalid(path, lineNumber, "a line needs file, seq and type");
                }
                AofFileType fileType;
                switch (type)
                {
                    case 'b':
                        if (entries.Any(e => e.Type == AofFileType.Base))
                        {
                            throw Invalid(path, lineNumber, "a second base file is listed");
                        }
                        fileType = AofFileType.Base;
                        break;
                    case 'h':
                        fileType = AofFileType.History;
                        break;
                    case 'i':
                        if (sequence <= lastIncrementalSequence)
                        {
                            throw Invalid(path, lineNumber, "incremental file sequence numbers must increase");
                        }
                        lastIncrementalSequence = sequence;
                        fileType = AofFileType.Incremental;
                        break;
                    default:
                        throw Invalid(path, lineNumber, "type must be b, h or i");
                }
                if (!names.Add(name))
                {
                    throw Invalid(path, lineNumber, $"file '{name}' is listed twice");
                }
                entries.Add(new AofManifestEntry(name, sequence, fileType, lineNumber));
            }
            if (entries.Count == 0)
            {
                throw new AofManifestException(path, "the manifest lists no file");
            }
            if (entries.All(e => e.Type == AofFileType.History))
            {
                throw new AofManifestException(path, "the manifest lists only history files (type h), no base or incremental file to load");
            }
            return new AofManifest(path, lines, endsWithNewline, entries);
        }

        /// <summary>The manifest text without the lines of the given files (used when a repair drops them).</summary>
        public string TextWithout(IEnumerable<string> fileNames)
        {
            var dropped = new HashSet<int>(Entries.Where(e => fileNames.Contains(e.FileName)).Select(e => e.LineNumber));
            var kept = _lines.Where((_, index) => !dropped.Contains(index + 1));
            return string.Join("\n", kept) + (_endsWithNewline ? "\n" : "");
        }

        private static AofManifestException Invalid(string path, int lineNumber, string problem) =>
            new(path, $"line {lineNumber}: {problem}");

        /// <summary>
        /// Splits a line like Redis' sdssplitargs: blanks separate; double quotes group with \\, \", \n, \r, \t, \a, \b and
        /// \xHH escapes (Redis writes names that need them with sdscatrepr, non-ASCII bytes as \xHH); single quotes
        /// group with only \' escaped. Bytes are collected, then read as UTF-8, as the names are on disk.
        /// </summary>
        private static List<string> Tokenize(string path, int lineNumber, string line)
        {
            var tokens = new List<string>();
            var i = 0;
            while (i < line.Length)
            {
                if (line[i] == ' ' || line[i] == '\t')
                {
                    i++;
                    continue;
                }
                var token = new List<byte>();
                var quote = line[i];
                if (quote == '"' || quote == '\'')
                {
                    i++;
                    while (true)
                    {
                        if (i >= line.Length)
                        {
                            throw Invalid(path, lineNumber, "unbalanced quotes");
                        }
                        var c = line[i++];
                        if (c == quote)
                        {
                            break;
                        }
                        if (c == '\\' && i < line.Length && quote == '"')
                        {
                            var escaped = line[i++];
                            if (escaped == 'x' && i + 1 < line.Length && IsHex(line[i]) && IsHex(line[i + 1]))
                            {
                                token.Add(byte.Parse(line.Substring(i, 2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture));
                                i += 2;
                                continue;
                            }
                            c = escaped switch { 'n' => '\n', 'r' => '\r', 't' => '\t', 'a' => '\a', 'b' => '\b', _ => escaped };
                        }
                        else if (c == '\\' && i < line.Length && line[i] == '\'')
                        {
                            c = line[i++];
                        }
                        else if (char.IsHighSurrogate(c) && i < line.Length)
                        {
                            token.AddRange(Encoding.UTF8.GetBytes(new[] { c, line[i++] }));
                            continue;
                        }
                        Append(token, c);
                    }
                    if (i < line.Length && line[i] != ' ' && line[i] != '\t')
                    {
                        throw Invalid(path, lineNumber, "a closing quote must be followed by a blank");
                    }
                }
                else
                {
                    var start = i;
                    while (i < line.Length && line[i] != ' ' && line[i] != '\t')
                    {
                        i++;
                    }
                    token.AddRange(Encoding.UTF8.GetBytes(line.Substring(start, i - start)));
                }
                tokens.Add(Encoding.UTF8.GetString(token.ToArray()));
            }
            return tokens;
        }

        private static bool IsHex(char c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

        private static void Append(List<byte> token, char c) => token.AddRange(Encoding.UTF8.GetBytes(new[] { c }));
    }
}
