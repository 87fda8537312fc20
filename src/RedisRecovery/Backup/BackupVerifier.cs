using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;
using RedisRecovery.Storage;

namespace RedisRecovery.Backup
{
    public enum BackupCheckOutcome
    {
        Passed,
        Failed,
        Skipped,
    }

    /// <summary>One check of a backup: what was checked, how it came out, and the facts behind it.</summary>
    public sealed class BackupCheck
    {
        public const string Sidecar = "Sidecar";
        public const string Sha256 = "Sha256";
        public const string RdbParse = "RdbParse";
        public const string KeyCounts = "KeyCounts";
        public const string Restore = "Restore";
        public const string Age = "Age";

        public BackupCheck(string name, BackupCheckOutcome outcome, string detail)
        {
            Name = name;
            Outcome = outcome;
            Detail = detail;
        }

        public string Name { get; }

        public BackupCheckOutcome Outcome { get; }

        public string Detail { get; }

        public override string ToString() => $"{Name}: {Outcome} ({Detail})";
    }

    /// <summary>The result of Test-RedisBackup for one backup: every check, and Passed when none failed.</summary>
    public sealed class BackupVerification
    {
        public string Path { get; init; } = string.Empty;

        public string Name { get; init; } = string.Empty;

        public DateTime CreatedUtc { get; init; }

        public TimeSpan Age { get; init; }

        public IReadOnlyList<BackupCheck> Checks { get; init; } = Array.Empty<BackupCheck>();

        public bool Passed => Checks.All(check => check.Outcome != BackupCheckOutcome.Failed);

        /// <summary>The names of the failed checks, for a table column.</summary>
        public string FailedChecks => string.Join(", ", Checks.Where(check => check.Outcome == BackupCheckOutcome.Failed).Select(check => check.Name));

        public BackupCheck? this[string name] => Checks.FirstOrDefault(check => check.Name == name);
    }

    public sealed class BackupVerificationOptions
    {
        /// <summary>A redis-server executable: when set, the backup is loaded into a throwaway server and DBSIZE compared.</summary>
        public string? RedisServerPath { get; init; }

        /// <summary>Longest the throwaway server may take to load the backup.</summary>
        public TimeSpan RestoreTimeout { get; init; } = TimeSpan.FromMinutes(5);

        /// <summary>When set, a backup older than this fails the Age check.</summary>
        public TimeSpan? MaxAge { get; init; }

        /// <summary>The clock for ages and expiries; the current time when null.</summary>
        public Func<DateTime>? UtcNow { get; init; }
    }

    /// <summary>
    /// Checks that a backup can be trusted: its sidecar is whole, the file's SHA-256 matches it, the RDB parses
    /// completely, the key counts match, and (optionally) a real redis-server loads it with the expected DBSIZE.
    /// </summary>
    public static class BackupVerifier
    {
        /// <summary>The cataloged backup for a backup file path (its sidecar beside it).</summary>
        public static async Task<RdbBackup> DescribeAsync(string path, CancellationToken cancellationToken)
        {
            var full = System.IO.Path.GetFullPath(path);
            var catalog = new BackupCatalog(new LocalDirectoryStore(System.IO.Path.GetDirectoryName(full)!));
            return await catalog.GetAsync(System.IO.Path.GetFileName(full), cancellationToken).ConfigureAwait(false)
                ?? throw new RedisRecoveryException("BackupNotFound", FailureKind.NotFound, $"There is no backup at '{full}'.") { Target = full };
        }

        public static async Task<BackupVerification> VerifyAsync(RdbBackup backup, BackupVerificationOptions? options = null,
            IProgress<OperationProgress>? progress = null, IOperationLog? log = null, CancellationToken cancellationToken = default)
        {
            options ??= new BackupVerificationOptions();
            log ??= NullOperationLog.Instance;
            var now = options.UtcNow?.Invoke() ?? DateTime.UtcNow;
            var checks = new List<BackupCheck>
            {
                backup.Status == BackupStatus.Ok
                    ? Pass(BackupCheck.Sidecar, $"{backup.SidecarPath} describes the file")
                    : Fail(BackupCheck.Sidecar, $"{backup.Status}: {backup.StatusDetail}"),
            };
            var fileExists = backup.Status != BackupStatus.MissingFile && File.Exists(backup.Path);
            RdbFileCheck? parse = null;
            if (!fileExists)
            {
                checks.Add(Skip(BackupCheck.Sha256, "no backup file"));
                checks.Add(Skip(BackupCheck.RdbParse, "no backup file"));
            }
            else
            {
                checks.Add(await CheckSha256Async(backup, cancellationToken).ConfigureAwait(false));
                parse = await RdbFileChecker.CheckFileAsync(backup.Path, new RdbCheckOptions { Now = new DateTimeOffset(now) }, progress, cancellationToken).ConfigureAwait(false);
                checks.Add(parse.IsValid
                    ? Pass(BackupCheck.RdbParse, $"RDB {parse.RdbVersion}, {parse.Keys} keys, checksum {parse.ChecksumStatus}")
                    : Fail(BackupCheck.RdbParse, parse.Error ?? "invalid"));
            }
            checks.Add(CheckKeyCounts(backup, parse));
            if (options.RedisServerPath != null)
            {
                checks.Add(parse is { IsValid: true }
                    ? await CheckRestoreAsync(backup.Path, parse, options, log, cancellationToken).ConfigureAwait(false)
                    : Skip(BackupCheck.Restore, "the RDB does not parse"));
            }
            var age = now - backup.CreatedUtc;
            if (options.MaxAge is TimeSpan maxAge)
            {
                checks.Add(age <= maxAge
                    ? Pass(BackupCheck.Age, $"taken {FormatAge(age)} ago, within {FormatAge(maxAge)}")
                    : Fail(BackupCheck.Age, $"taken {FormatAge(age)} ago, older than {FormatAge(maxAge)}"));
            }
            return new BackupVerification
            {
                Path = backup.Path,
                Name = backup.Name,
                CreatedUtc = backup.CreatedUtc,
                Age = age,
                Checks = checks,
            };
        }

        public static string FormatAge(TimeSpan age) =>
            age.TotalDays >= 1 ? $"{age.TotalDays:0.#} d" : age.TotalHours >= 1 ? $"{age.TotalHours:0.#} h" : $"{age.TotalMinutes:0.#} min";

        private static async Task<BackupCheck> CheckSha256Async(RdbBackup backup, CancellationToken cancellationToken)
        {
            if (backup.Sha256 == null)
            {
                return Skip(BackupCheck.Sha256, "no recorded SHA-256 to compare with");
            }
            string actual;
            using (var file = new FileStream(backup.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                actual = await Sha256Hex.ComputeAsync(file, cancellationToken).ConfigureAwait(false);
            }
            return actual == backup.Sha256
                ? Pass(BackupCheck.Sha256, actual)
                : Fail(BackupCheck.Sha256, $"the file hashes to {actual}, the sidecar recorded {backup.Sha256}");
        }

        private static BackupCheck CheckKeyCounts(RdbBackup backup, RdbFileCheck? parse)
        {
            if (parse is not { IsValid: true } || backup.KeysPerDatabase == null)
            {
                return Skip(BackupCheck.KeyCounts, parse is not { IsValid: true } ? "the RDB does not parse" : "no recorded key counts");
            }
            var differences = Differences(backup.KeysPerDatabase, parse.KeysPerDatabase);
            return differences.Count == 0
                ? Pass(BackupCheck.KeyCounts, Describe(parse.KeysPerDatabase))
                : Fail(BackupCheck.KeyCounts, "file vs sidecar: " + string.Join(", ", differences));
        }

        private static async Task<BackupCheck> CheckRestoreAsync(string path, RdbFileCheck parse, BackupVerificationOptions options, IOperationLog log,
            CancellationToken cancellationToken)
        {
            // A server loading an RDB as master drops the keys already expired: they are not missing.
            var expected = parse.KeysPerDatabase.ToDictionary(
                pair => pair.Key,
                pair => pair.Value - (parse.AlreadyExpiredPerDatabase.TryGetValue(pair.Key, out var expired) ? expired : 0));
            IReadOnlyDictionary<int, long> loaded;
            try
            {
                await using var server = await ThrowawayRedisServer.StartAsync(options.RedisServerPath!, path, options.RestoreTimeout, cancellationToken).ConfigureAwait(false);
                log.Verbose($"Loaded {path} into a throwaway redis-server on {server.Endpoint.Address}.");
                await using var connection = await server.ConnectAsync(cancellationToken).ConfigureAwait(false);
                loaded = (await RedisInfo.ReadAsync(connection, "keyspace", cancellationToken).ConfigureAwait(false)).KeysPerDatabase();
            }
            catch (RedisRecoveryException failure) when (failure.ErrorId == "BackupNotLoadable")
            {
                return Fail(BackupCheck.Restore, failure.Message);
            }
            var differences = Differences(expected, loaded);
            return differences.Count == 0
                ? Pass(BackupCheck.Restore, "redis-server loaded " + Describe(loaded))
                : Fail(BackupCheck.Restore, "expected vs loaded: " + string.Join(", ", differences));
        }

        private static List<string> Differences(IReadOnlyDictionary<int, long> expected, IReadOnlyDictionary<int, long> actual)
        {
            var differences = new List<string>();
            foreach (var database in expected.Keys.Union(actual.Keys).OrderBy(database => database))
            {
                expected.TryGetValue(database, out var want);
                actual.TryGetValue(database, out var have);
                if (want != have)
                {
                    differences.Add($"db{database} {want} vs {have}");
                }
            }
            return differences;
        }

        private static string Describe(IReadOnlyDictionary<int, long> keys) =>
            keys.Count == 0 ? "no keys" : string.Join(", ", keys.Where(pair => pair.Value > 0).OrderBy(pair => pair.Key).Select(pair => $"db{pair.Key}={pair.Value}"));

        private static BackupCheck Pass(string name, string detail) => new(name, BackupCheckOutcome.Passed, detail);

        private static BackupCheck Fail(string name, string detail) => new(name, BackupCheckOutcome.Failed, detail);

        private static BackupCheck Skip(string name, string detail) => new(name, BackupCheckOutcome.Skipped, detail);
    }
}
