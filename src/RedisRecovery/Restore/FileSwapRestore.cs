using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Resp;

namespace RedisRecovery.Restore
{
    /// <summary>The offline restore, step by step, as computed before anything is done (what -WhatIf shows).</summary>
    public sealed class FileSwapPlan
    {
        public string Source { get; init; } = string.Empty;

        public string Target { get; init; } = string.Empty;

        /// <summary>The server's dir/dbfilename: where the backup goes.</summary>
        public string DumpPath { get; init; } = string.Empty;

        /// <summary>The server's config file, or null when it runs without one (then CONFIG REWRITE is skipped).</summary>
        public string? ConfigFile { get; init; }

        public bool AppendOnlyWasEnabled { get; init; }

        /// <summary>Current data files and where each is moved (never deleted).</summary>
        public IReadOnlyList<KeyValuePair<string, string>> MoveAside { get; init; } = Array.Empty<KeyValuePair<string, string>>();

        public IReadOnlyList<string> Steps { get; init; } = Array.Empty<string>();

        public override string ToString() => string.Join(Environment.NewLine, Steps.Select((s, i) => $"{i + 1}. {s}"));
    }

    /// <summary>
    /// The file swap the Redis persistence guide prescribes, automated: stop the server, switch AOF off in its
    /// config, move its data files aside, place the backup as its dump file, start it, wait for the load, verify
    /// against the backup's key counts, then switch AOF back on so it is rebuilt from the restored data.
    /// </summary>
    internal static class FileSwapRestore
    {
        public static async Task<FileSwapPlan> PlanAsync(RestoreOptions options, CancellationToken cancellationToken)
        {
            await using var target = await RestoreTarget.ConnectAsync(options.Target, null, cancellationToken).ConfigureAwait(false);
            return await PlanAsync(options, target, cancellationToken).ConfigureAwait(false);
        }

        public static async Task<RestoreResult> RunAsync(RestoreOptions options, IProgress<OperationProgress>? progress, IOperationLog log, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            var result = RedisRestorer.NewResult(options, RestoreSourceKind.Rdb);
            FileSwapPlan plan;
            RestoreTarget? target = await RestoreTarget.ConnectAsync(options.Target, null, cancellationToken).ConfigureAwait(false);
            try
            {
                plan = await PlanAsync(options, target, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await target.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            // Counted before the server goes down: a damaged backup must stop the swap while nothing has changed.
            var now = options.Now ?? DateTimeOffset.UtcNow;
            var expected = await CountKeysAsync(options, now, cancellationToken).ConfigureAwait(false);
            var moved = new List<string>();
            var step = 0;
            void Report(string what)
            {
                log.Verbose($"FileSwap step {++step}: {what}");
                progress?.Report(new OperationProgress($"Restoring {result.Source} to {result.Target} (FileSwap)", what, step, plan.Steps.Count));
            }
            string? configBackup = null;
            try
            {
                Report(plan.Steps[0]);
                if (options.StopServer != null)
                {
                    await target.DisposeAsync().ConfigureAwait(false);
                    target = null;
                    await options.StopServer(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await ShutdownAsync(target, cancellationToken).ConfigureAwait(false);
                    target = null;
                }
                await WaitUntilDownAsync(options.Target, options.StartTimeout, cancellationToken).ConfigureAwait(false);
                if (plan.ConfigFile != null)
                {
                    Report($"set 'appendonly no' in {plan.ConfigFile}");
                    configBackup = plan.ConfigFile + ".before-restore-" + Stamp();
                    File.Copy(plan.ConfigFile, configBackup);
                    SetAppendOnly(plan.ConfigFile, false);
                }
                foreach (var pair in plan.MoveAside)
                {
                    Report($"move {pair.Key} aside to {pair.Value}");
                    if (Directory.Exists(pair.Key))
                    {
                        Directory.Move(pair.Key, pair.Value);
                        moved.Add(pair.Value);
                    }
                    else if (File.Exists(pair.Key))
                    {
                        File.Move(pair.Key, pair.Value);
                        moved.Add(pair.Value);
                    }
                }
                Report($"copy the backup to {plan.DumpPath}");
                var staging = plan.DumpPath + ".restore-staging";
                using (var source = new FileStream(options.SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
                using (var copy = new FileStream(staging, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    await source.CopyToAsync(copy, 1 << 20, cancellationToken).ConfigureAwait(false);
                }
                File.Move(staging, plan.DumpPath);
                Report("start the server");
                await options.StartServer!(cancellationToken).ConfigureAwait(false);
                Report("wait until it has loaded the data");
                target = await WaitUntilLoadedAsync(options.Target, options.StartTimeout, cancellationToken).ConfigureAwait(false);
                result.MovedAsideFiles = moved;
                Report("verify the key counts");
                await VerifyAsync(options, target, result, expected, now, cancellationToken).ConfigureAwait(false);
                if (plan.AppendOnlyWasEnabled)
                {
                    Report("switch AOF back on and wait for it to be rewritten from the restored data");
                    await target.ExecuteAsync(new RedisCommand("CONFIG", "SET", "appendonly", "yes"), cancellationToken).ConfigureAwait(false);
                    await WaitForAofRewriteAsync(target, options.StartTimeout, cancellationToken).ConfigureAwait(false);
                    if (plan.ConfigFile != null)
                    {
                        await target.ExecuteAsync(new RedisCommand("CONFIG", "REWRITE"), cancellationToken).ConfigureAwait(false);
                    }
                }
                result.KeysRestored = result.TargetKeysPerDatabase.Values.Sum();
                result.Bytes = new FileInfo(options.SourcePath).Length;
                result.Completed = true;
                result.Duration = watch.Elapsed;
                return result;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || step > 1)
            {
                throw new RedisRecoveryException(RestoreErrorIds.FileSwapFailed, exception is RedisRecoveryException known ? known.Kind : FailureKind.IOError,
                    $"FileSwap stopped at step {step} ({(step > 0 ? plan.Steps[Math.Min(step, plan.Steps.Count) - 1] : "planning")}): {exception.Message} " + Rollback(plan, moved, configBackup), exception)
                {
                    Target = result.Target,
                };
            }
            finally
            {
                if (target != null)
                {
                    await target.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        private static async Task<FileSwapPlan> PlanAsync(RestoreOptions options, RestoreTarget target, CancellationToken cancellationToken)
        {
            var config = await ConfigAsync(target, cancellationToken, "dir", "dbfilename", "appendonly", "appenddirname", "appendfilename").ConfigureAwait(false);
            var server = await target.InfoAsync("server", cancellationToken).ConfigureAwait(false);
            var dir = config["dir"];
            var dumpPath = Path.Combine(dir, config["dbfilename"]);
            var configFile = server.TryGetValue("config_file", out var file) && file.Length > 0 ? file : null;
            var appendOnly = string.Equals(config["appendonly"], "yes", StringComparison.OrdinalIgnoreCase);
            var stamp = Stamp();
            var aside = new List<KeyValuePair<string, string>>();
            void Aside(string path)
            {
                if (File.Exists(path) || Directory.Exists(path))
                {
                    aside.Add(new KeyValuePair<string, string>(path, path + ".before-restore-" + stamp));
                }
            }
            Aside(dumpPath);
            if (config.TryGetValue("appenddirname", out var aofDir) && aofDir.Length > 0)
            {
                Aside(Path.Combine(dir, aofDir));
            }
            if (config.TryGetValue("appendfilename", out var aofFile) && aofFile.Length > 0)
            {
                Aside(Path.Combine(dir, aofFile));
            }
            var steps = new List<string>
            {
                options.StopServer != null ? "stop the server with the stop command" : $"stop the server with SHUTDOWN NOSAVE ({target.Address})",
            };
            if (configFile != null)
            {
                steps.Add($"set 'appendonly no' in {configFile} (a copy of it is kept)");
            }
            else if (appendOnly)
            {
                steps.Add("the server has no config file: the start command must start it with appendonly no, or it loads the (moved) AOF instead of the backup");
            }
            steps.AddRange(aside.Select(pair => $"move {pair.Key} aside to {pair.Value}"));
            steps.Add($"copy {Path.GetFullPath(options.SourcePath)} to {dumpPath}");
            steps.Add("start the server with the start command");
            steps.Add("wait until it has loaded the data");
            steps.Add("verify the key counts against the backup");
            if (appendOnly)
            {
                steps.Add("switch AOF back on (CONFIG SET appendonly yes), wait for the rewrite" + (configFile != null ? ", CONFIG REWRITE" : string.Empty));
            }
            return new FileSwapPlan
            {
                Source = options.SourceName,
                Target = options.Target.Endpoint.ToString(),
                DumpPath = dumpPath,
                ConfigFile = configFile,
                AppendOnlyWasEnabled = appendOnly,
                MoveAside = aside,
                Steps = steps,
            };
        }

        /// <summary>Keys per database that a server loading the file keeps (not those already expired).</summary>
        private static async Task<Dictionary<int, long>> CountKeysAsync(RestoreOptions options, DateTimeOffset now, CancellationToken cancellationToken)
        {
            var counts = new Dictionary<int, long>();
            using var reader = new Rdb.RdbReader(
                new FileStream(options.SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan),
                new Rdb.RdbReaderOptions { SourceName = options.SourceName, BaseOffset = 0, CaptureValues = false });
            while (await reader.ReadEntryAsync(cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (!entry.IsExpiredAt(now))
                {
                    counts[entry.Database] = (counts.TryGetValue(entry.Database, out var n) ? n : 0) + 1;
                }
            }
            return counts;
        }

        private static async Task VerifyAsync(RestoreOptions options, RestoreTarget target, RestoreResult result, Dictionary<int, long> expected, DateTimeOffset now,
            CancellationToken cancellationToken)
        {
            var after = await target.KeyspaceAsync(cancellationToken).ConfigureAwait(false);
            result.TargetKeysPerDatabase = after;
            var databases = expected.Keys.Union(after.Keys).OrderBy(db => db).ToList();
            var differences = databases
                .Where(db => (expected.TryGetValue(db, out var e) ? e : 0) != (after.TryGetValue(db, out var a) ? a : 0))
                .Select(db => $"db{db} backup {(expected.TryGetValue(db, out var e) ? e : 0)}, server {(after.TryGetValue(db, out var a) ? a : 0)}")
                .ToList();
            var details = new List<string>
            {
                differences.Count == 0 ? $"key counts match ({RestoreResult.FormatCounts(expected)})" : "key counts differ: " + string.Join(", ", differences),
            };
            var verified = differences.Count == 0;
            if (options.SkipDigest)
            {
                details.Add("DEBUG DIGEST skipped (-SkipDigest)");
            }
            else
            {
                var (same, detail) = await DigestVerification.CompareAsync(options, target, result, entry => entry.Database, now, cancellationToken).ConfigureAwait(false);
                verified &= same != false;
                details.Add(detail);
            }
            result.Verified = verified;
            result.VerificationDetail = string.Join("; ", details);
            result.KeysSkipped.Expired = 0;
        }

        private static async Task<Dictionary<string, string>> ConfigAsync(RestoreTarget target, CancellationToken cancellationToken, params string[] names)
        {
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var name in names)
            {
                var reply = await target.ExecuteAsync(new RedisCommand("CONFIG", "GET", name), cancellationToken).ConfigureAwait(false);
                foreach (var pair in reply.AsPairs())
                {
                    values[pair.Key.AsString() ?? string.Empty] = pair.Value.AsString() ?? string.Empty;
                }
            }
            if (!values.ContainsKey("dir") || !values.ContainsKey("dbfilename"))
            {
                throw new RedisRecoveryException(RestoreErrorIds.FileSwapFailed, FailureKind.CommandUnavailable,
                    $"{target.Address} did not tell its dir and dbfilename (CONFIG GET): FileSwap needs them.") { Target = target.Address };
            }
            return values;
        }

        private static async Task ShutdownAsync(RestoreTarget target, CancellationToken cancellationToken)
        {
            try
            {
                await target.ExecuteAsync(new RedisCommand("SHUTDOWN", "NOSAVE"), cancellationToken).ConfigureAwait(false);
            }
            catch (RedisRecoveryException closed) when (closed is RedisConnectionException or RedisProtocolException)
            {
                // The server closes the connection as it exits: that is the success case.
            }
            finally
            {
                await target.DisposeAsync().ConfigureAwait(false);
            }
        }

        private static async Task WaitUntilDownAsync(RedisConnectionOptions options, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                try
                {
                    using var probe = await RedisConnection.ConnectAsync(Probe(options), cancellationToken).ConfigureAwait(false);
                }
                catch (RedisConnectionException)
                {
                    return;
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new RedisRecoveryException(RestoreErrorIds.FileSwapFailed, FailureKind.Timeout,
                        $"{options.Endpoint.Address} still answers {timeout.TotalSeconds:0} s after the stop: it must be stopped before its files are swapped.");
                }
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }

        private static async Task<RestoreTarget> WaitUntilLoadedAsync(RedisConnectionOptions options, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + timeout;
            Exception? last = null;
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    var target = await RestoreTarget.ConnectAsync(options, null, cancellationToken).ConfigureAwait(false);
                    var persistence = await target.InfoAsync("persistence", cancellationToken).ConfigureAwait(false);
                    if (persistence.TryGetValue("loading", out var loading) && loading == "0")
                    {
                        return target;
                    }
                    await target.DisposeAsync().ConfigureAwait(false);
                }
                catch (RedisRecoveryException exception) when (exception is RedisConnectionException || exception.Message.Contains("LOADING"))
                {
                    last = exception;
                }
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
            throw new RedisRecoveryException(RestoreErrorIds.FileSwapFailed, FailureKind.Timeout,
                $"{options.Endpoint.Address} did not finish loading within {timeout.TotalSeconds:0} s after the start" + (last != null ? $" (last: {last.Message})" : ".") , last);
        }

        private static async Task WaitForAofRewriteAsync(RestoreTarget target, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                var persistence = await target.InfoAsync("persistence", cancellationToken).ConfigureAwait(false);
                if (persistence.TryGetValue("aof_enabled", out var enabled) && enabled == "1"
                    && persistence.TryGetValue("aof_rewrite_in_progress", out var inProgress) && inProgress == "0"
                    && (!persistence.TryGetValue("aof_rewrite_scheduled", out var scheduled) || scheduled == "0"))
                {
                    return;
                }
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
            throw new RedisRecoveryException(RestoreErrorIds.FileSwapFailed, FailureKind.Timeout, $"{target.Address} did not finish rewriting its AOF within {timeout.TotalSeconds:0} s.");
        }

        private static RedisConnectionOptions Probe(RedisConnectionOptions options) => new(options.Endpoint)
        {
            Credential = options.Credential,
            UseTls = options.UseTls,
            Tls = options.Tls,
            ConnectTimeout = TimeSpan.FromSeconds(2),
        };

        /// <summary>Rewrites every "appendonly" directive of a config file (adds one when there is none).</summary>
        private static void SetAppendOnly(string configFile, bool enabled)
        {
            var value = enabled ? "appendonly yes" : "appendonly no";
            var lines = File.ReadAllLines(configFile).ToList();
            var found = false;
            for (var i = 0; i < lines.Count; i++)
            {
                var trimmed = lines[i].TrimStart();
                if (trimmed.StartsWith("appendonly ", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("appendonly\t", StringComparison.OrdinalIgnoreCase))
                {
                    lines[i] = value;
                    found = true;
                }
            }
            if (!found)
            {
                lines.Add(value);
            }
            File.WriteAllLines(configFile, lines);
        }

        private static string Rollback(FileSwapPlan plan, List<string> moved, string? configBackup)
        {
            if (moved.Count == 0 && configBackup == null)
            {
                return "Nothing was moved: the server's files are as they were.";
            }
            var steps = new List<string> { $"delete {plan.DumpPath} if it is the placed backup" };
            steps.AddRange(plan.MoveAside.Where(p => moved.Contains(p.Value)).Select(p => $"move {p.Value} back to {p.Key}"));
            if (configBackup != null)
            {
                steps.Add($"copy {configBackup} back to {plan.ConfigFile}");
            }
            return "To roll back: stop the server, " + string.Join(", ", steps) + ", then start it.";
        }

        private static string Stamp() => DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
    }
}
