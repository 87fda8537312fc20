using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace RedisRecovery.Restore
{
    /// <summary>
    /// The progress record of one restore: which source (path, size, time written) into which target, and the
    /// position in the source before which everything has been acknowledged by the target. Written atomically
    /// (temp file + rename) at checkpoints, so a restore cut off by a dropped connection or a crash continues from
    /// the last checkpoint when it runs again with the same journal.
    /// </summary>
    internal sealed class RestoreJournal
    {
        private const string Format = "RedisRecovery.RestoreJournal/1";
        private readonly string _path;

        private RestoreJournal(string path, string sourceIdentity, string target)
        {
            _path = path;
            SourceIdentity = sourceIdentity;
            Target = target;
        }

        public string SourceIdentity { get; }

        public string Target { get; }

        /// <summary>The file part (AOF load order; 0 for an RDB) of <see cref="NextOffset"/>.</summary>
        public int NextPart { get; private set; }

        /// <summary>Entries (or commands) before this offset are in the target.</summary>
        public long NextOffset { get; private set; }

        public long KeysRestored { get; private set; }

        public long CommandsReplayed { get; private set; }

        /// <summary>The target databases the restore writes held no keys when it began (so counts and digest compare exactly).</summary>
        public bool TargetStartedEmpty { get; set; }

        /// <summary>True when the journal recorded an unfinished restore of the same source into the same target.</summary>
        public bool IsResume { get; private set; }

        /// <summary>
        /// Opens the journal for a restore: an unfinished record of the same source and target is resumed; a
        /// finished one or none starts afresh; an unfinished one of something else is refused (it would skip data).
        /// </summary>
        public static RestoreJournal Open(string path, string sourceIdentity, string target)
        {
            var journal = new RestoreJournal(path, sourceIdentity, target);
            if (!File.Exists(path))
            {
                return journal;
            }
            var fields = File.ReadAllLines(path)
                .Select(line => line.Split(new[] { '=' }, 2))
                .Where(parts => parts.Length == 2)
                .GroupBy(parts => parts[0], StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
            if (!fields.TryGetValue("format", out var format) || format != Format)
            {
                throw Mismatch(path, "it is not a restore journal");
            }
            if (fields.TryGetValue("state", out var state) && state == "completed")
            {
                return journal;
            }
            if (Field(fields, "source") != sourceIdentity)
            {
                throw Mismatch(path, "it records an unfinished restore of another source (or the source file changed since)");
            }
            if (Field(fields, "target") != target)
            {
                throw Mismatch(path, $"it records an unfinished restore into {Field(fields, "target")}, not {target}");
            }
            journal.NextPart = int.Parse(Field(fields, "part") ?? "0", CultureInfo.InvariantCulture);
            journal.NextOffset = long.Parse(Field(fields, "offset") ?? "0", CultureInfo.InvariantCulture);
            journal.KeysRestored = long.Parse(Field(fields, "keysRestored") ?? "0", CultureInfo.InvariantCulture);
            journal.CommandsReplayed = long.Parse(Field(fields, "commandsReplayed") ?? "0", CultureInfo.InvariantCulture);
            journal.TargetStartedEmpty = Field(fields, "targetStartedEmpty") == "true";
            journal.IsResume = true;
            return journal;
        }

        /// <summary>Identifies a source file or AOF directory by full path, total size and last write time.</summary>
        public static string IdentityOf(string sourcePath)
        {
            var full = Path.GetFullPath(sourcePath);
            IEnumerable<FileInfo> files = Directory.Exists(full)
                ? new DirectoryInfo(full).GetFiles().OrderBy(f => f.Name, StringComparer.Ordinal)
                : new[] { new FileInfo(full) };
            var list = files.ToList();
            var size = list.Sum(f => f.Length);
            var written = list.Count == 0 ? 0 : list.Max(f => f.LastWriteTimeUtc.Ticks);
            return FormattableString.Invariant($"{full}|{size}|{written}");
        }

        /// <summary>Records that everything before (<paramref name="part"/>, <paramref name="offset"/>) is in the target.</summary>
        public void Checkpoint(int part, long offset, long keysRestored, long commandsReplayed) =>
            Write("in-progress", part, offset, keysRestored, commandsReplayed);

        public void Complete(long keysRestored, long commandsReplayed) => Write("completed", NextPart, NextOffset, keysRestored, commandsReplayed);

        private void Write(string state, int part, long offset, long keysRestored, long commandsReplayed)
        {
            NextPart = part;
            NextOffset = offset;
            var text = new StringBuilder()
                .Append("format=").Append(Format).Append('\n')
                .Append("state=").Append(state).Append('\n')
                .Append("source=").Append(SourceIdentity).Append('\n')
                .Append("target=").Append(Target).Append('\n')
                .Append("targetStartedEmpty=").Append(TargetStartedEmpty ? "true" : "false").Append('\n')
                .Append("part=").Append(part.ToString(CultureInfo.InvariantCulture)).Append('\n')
                .Append("offset=").Append(offset.ToString(CultureInfo.InvariantCulture)).Append('\n')
                .Append("keysRestored=").Append(keysRestored.ToString(CultureInfo.InvariantCulture)).Append('\n')
                .Append("commandsReplayed=").Append(commandsReplayed.ToString(CultureInfo.InvariantCulture)).Append('\n')
                .Append("updatedUtc=").Append(DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture)).Append('\n')
                .ToString();
            var directory = Path.GetDirectoryName(Path.GetFullPath(_path)) ?? ".";
            Directory.CreateDirectory(directory);
            var temp = Path.Combine(directory, "." + Path.GetFileName(_path) + ".tmp");
            File.WriteAllText(temp, text);
            if (File.Exists(_path))
            {
                File.Replace(temp, _path, null);
            }
            else
            {
                File.Move(temp, _path);
            }
        }

        private static string? Field(Dictionary<string, string> fields, string name) => fields.TryGetValue(name, out var value) ? value : null;

        private static RedisRecoveryException Mismatch(string path, string why) =>
            new(RestoreErrorIds.JournalMismatch, FailureKind.Conflict,
                $"The journal {path} cannot be used for this restore: {why}. Use another -Journal path, or delete it to start over.")
            {
                Target = path,
            };
    }
}
