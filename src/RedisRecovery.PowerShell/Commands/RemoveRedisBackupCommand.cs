using System;
using System.Linq;
using System.Management.Automation;
using RedisRecovery.Backup;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>
    /// Deletes backups (file and sidecar): those piped in, or those a grandfather-father-son retention policy does
    /// not keep. -WhatIf shows the plan, with the reason for every backup, and deletes nothing.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "RedisBackup", DefaultParameterSetName = BackupSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(BackupRemoval))]
    public sealed class RemoveRedisBackupCommand : RedisRecoveryCmdlet
    {
        public const string BackupSet = "Backup";
        public const string RetentionSet = "Retention";

        /// <summary>The backup file to remove, or (with the Keep* parameters) the directory to apply retention to.</summary>
        [Parameter(ParameterSetName = BackupSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = RetentionSet, Mandatory = true, Position = 0)]
        [Alias("PSPath", "FullName")]
        public string Path { get; set; } = string.Empty;

        [Parameter(ParameterSetName = RetentionSet)]
        [ValidateRange(0, int.MaxValue)]
        public int KeepHourly { get; set; }

        [Parameter(ParameterSetName = RetentionSet)]
        [ValidateRange(0, int.MaxValue)]
        public int KeepDaily { get; set; }

        [Parameter(ParameterSetName = RetentionSet)]
        [ValidateRange(0, int.MaxValue)]
        public int KeepWeekly { get; set; }

        [Parameter(ParameterSetName = RetentionSet)]
        [ValidateRange(0, int.MaxValue)]
        public int KeepMonthly { get; set; }

        /// <summary>Only the series whose names match; every series is evaluated on its own either way.</summary>
        [Parameter(ParameterSetName = RetentionSet)]
        [SupportsWildcards]
        public string[]? Name { get; set; }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == RetentionSet)
            {
                ApplyRetention();
            }
            else
            {
                RemoveOne();
            }
        }

        private void RemoveOne()
        {
            try
            {
                var catalog = new BackupCatalog(BackupStoreLocation.OpenContaining(this, Path, out var fileName));
                var backup = RunEngine(hooks => catalog.GetAsync(fileName, hooks.Cancellation))
                    ?? throw new RedisRecoveryException("BackupNotFound", FailureKind.NotFound, $"No backup file or sidecar exists at '{Path}'.") { Target = Path };
                if (ShouldProcess(backup.Path, "Remove backup and its sidecar"))
                {
                    Remove(catalog, backup);
                    WriteObject(BackupRemoval.Requested(backup, removed: true));
                }
            }
            catch (Exception ex) when (!(ex is PipelineStoppedException))
            {
                WriteError(ToErrorRecord(ex, Path));
            }
        }

        private void ApplyRetention()
        {
            var keepParameters = new[] { nameof(KeepHourly), nameof(KeepDaily), nameof(KeepWeekly), nameof(KeepMonthly) };
            if (!keepParameters.Any(MyInvocation.BoundParameters.ContainsKey))
            {
                ThrowTerminatingError(ToErrorRecord(new RedisRecoveryException("RetentionPolicyMissing", FailureKind.InvalidArgument,
                    "Give at least one of -KeepHourly, -KeepDaily, -KeepWeekly, -KeepMonthly (0 keeps only the newest backup of each name)."), Path));
            }
            var patterns = Name?.Select(name => WildcardPattern.Get(name, WildcardOptions.IgnoreCase)).ToList();
            var query = new BackupQuery { NameFilter = patterns == null ? null : name => patterns.Any(pattern => pattern.IsMatch(name)) };
            BackupCatalog catalog;
            RetentionPlan plan;
            try
            {
                catalog = new BackupCatalog(BackupStoreLocation.Open(this, Path));
                var backups = RunEngine(hooks => catalog.ListAsync(query, hooks.Cancellation));
                plan = RetentionPlanner.Plan(backups, new RetentionPolicy(KeepHourly, KeepDaily, KeepWeekly, KeepMonthly), DateTime.UtcNow);
            }
            catch (Exception ex) when (!(ex is PipelineStoppedException))
            {
                ThrowTerminatingError(ToErrorRecord(ex, Path));
                return;
            }

            foreach (var decision in plan.Decisions)
            {
                var removed = false;
                if (decision.Action == RetentionAction.Delete && ShouldProcess(decision.Backup.Path, $"Remove backup ({decision.Reason})"))
                {
                    try
                    {
                        Remove(catalog, decision.Backup);
                        removed = true;
                    }
                    catch (Exception ex) when (!(ex is PipelineStoppedException))
                    {
                        WriteError(ToErrorRecord(ex, decision.Backup.Path));
                    }
                }
                else if (decision.Action == RetentionAction.Keep)
                {
                    WriteVerbose($"Keeping {decision.Backup.Path}: {decision.Reason}.");
                }
                WriteObject(BackupRemoval.FromDecision(decision, removed));
            }
        }

        private void Remove(BackupCatalog catalog, RdbBackup backup) =>
            RunEngine(async hooks =>
            {
                await catalog.RemoveAsync(backup.FileName, hooks.Cancellation).ConfigureAwait(false);
                return backup;
            });
    }
}
