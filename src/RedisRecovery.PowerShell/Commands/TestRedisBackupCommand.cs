using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using RedisRecovery.Storage;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>
    /// Checks backups (piped from Get-RedisBackup or Backup-RdbSnapshot, or by path): sidecar, SHA-256, full RDB
    /// parse, key counts, optionally a restore into a throwaway redis-server, and with -MaxAge whether the newest
    /// backup of each series is recent enough. One result object per backup; failures are also errors.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "RedisBackup", DefaultParameterSetName = PathParameterSet)]
    [OutputType(typeof(BackupVerification))]
    public sealed class TestRedisBackupCommand : RedisRecoveryCmdlet
    {
        public const string PathParameterSet = nameof(Path);
        private readonly Dictionary<string, BackupVerification> _newestPerSeries = new(StringComparer.Ordinal);

        /// <summary>Backup files (their sidecars beside them), or directories: the newest valid backup of each series there.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = null!;

        /// <summary>A redis-server executable: load each backup into a throwaway server and compare DBSIZE per database.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? RedisServerPath { get; set; }

        /// <summary>Fail (BackupStale) when the newest backup of a series is older than this.</summary>
        [Parameter]
        public TimeSpan MaxAge { get; set; }

        protected override void ProcessRecord()
        {
            var options = new BackupVerificationOptions
            {
                RedisServerPath = RedisServerPath,
                MaxAge = MaxAgeGiven ? MaxAge : null,
            };
            foreach (var path in Path)
            {
                var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                IReadOnlyList<BackupVerification> results;
                try
                {
                    results = RunEngine(hooks => VerifyAsync(full, options, hooks));
                }
                catch (Exception failure) when (failure is RedisRecoveryException or IOException or UnauthorizedAccessException)
                {
                    WriteError(ToErrorRecord(failure, path));
                    continue;
                }
                foreach (var result in results)
                {
                    var failed = result.Checks.Where(check => check.Outcome == BackupCheckOutcome.Failed && check.Name != BackupCheck.Age).ToList();
                    if (failed.Count > 0)
                    {
                        var message = $"The backup '{result.Path}' failed {string.Join("; ", failed.Select(check => $"{check.Name}: {check.Detail}"))}";
                        WriteError(ToErrorRecord(new RedisRecoveryException("BackupVerificationFailed", FailureKind.CorruptData, message), result.Path));
                    }
                    if (!_newestPerSeries.TryGetValue(result.Name, out var newest) || result.CreatedUtc > newest.CreatedUtc)
                    {
                        _newestPerSeries[result.Name] = result;
                    }
                    WriteObject(result);
                }
            }
        }

        /// <summary>Staleness is judged per series, on its newest backup, once every backup has been seen.</summary>
        protected override void EndProcessing()
        {
            if (!MaxAgeGiven)
            {
                return;
            }
            foreach (var newest in _newestPerSeries.Values.Where(result => result.Age > MaxAge))
            {
                var message = $"The newest backup of '{newest.Name}' ({newest.Path}) was taken {BackupVerifier.FormatAge(newest.Age)} ago, longer than -MaxAge {BackupVerifier.FormatAge(MaxAge)}.";
                WriteError(ToErrorRecord(new RedisRecoveryException("BackupStale", FailureKind.Timeout, message) { Target = newest.Path }, newest.Path));
            }
        }

        private bool MaxAgeGiven => MyInvocation.BoundParameters.ContainsKey(nameof(MaxAge));

        private static async Task<IReadOnlyList<BackupVerification>> VerifyAsync(string path, BackupVerificationOptions options, EngineHooks hooks)
        {
            var results = new List<BackupVerification>();
            foreach (var backup in await FindBackupsAsync(path, hooks).ConfigureAwait(false))
            {
                results.Add(await BackupVerifier.VerifyAsync(backup, options, hooks.Progress, hooks.Log, hooks.Cancellation).ConfigureAwait(false));
            }
            return results;
        }

        private static async Task<IReadOnlyList<RdbBackup>> FindBackupsAsync(string full, EngineHooks hooks)
        {
            if (!Directory.Exists(full))
            {
                return new[] { await BackupVerifier.DescribeAsync(full, hooks.Cancellation).ConfigureAwait(false) };
            }
            var latest = await new BackupCatalog(new LocalDirectoryStore(full)).ListAsync(new BackupQuery { LatestOnly = true }, hooks.Cancellation).ConfigureAwait(false);
            return latest.Count > 0
                ? latest
                : throw new RedisRecoveryException("BackupNotFound", FailureKind.NotFound, $"There is no valid backup in '{full}'.") { Target = full };
        }
    }
}
