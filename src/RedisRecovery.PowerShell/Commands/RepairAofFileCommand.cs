using System;
using System.IO;
using System.Management.Automation;
using RedisRecovery.Aof;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>
    /// Cuts an AOF back to a loadable point: a truncated tail (like redis-check-aof --fix), a corrupt middle (only
    /// with -Force), a point in time (-ToTimestamp) or just before an accidental FLUSHALL/FLUSHDB. The plan is
    /// computed first, so -WhatIf shows it and changes nothing. Damage is cut in place after a backup; a point in
    /// time goes to a copy unless -InPlace. ConfirmImpact is Medium because no path destroys data (every cut keeps
    /// the original bytes), so runbooks are never prompted; cuts that can lose much data need -Force instead.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Repair, "AofFile", DefaultParameterSetName = DamageParameterSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(AofRepairResult))]
    public sealed class RepairAofFileCommand : RedisRecoveryCmdlet
    {
        public const string DamageParameterSet = "Damage";
        public const string ToTimestampParameterSet = nameof(ToTimestamp);
        public const string BeforeCommandParameterSet = nameof(BeforeCommand);

        /// <summary>The AOF file, multi-part directory or manifest (no wildcards: a repair names its target).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = DamageParameterSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ToTimestampParameterSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = BeforeCommandParameterSet)]
        [Alias("PSPath", "FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = null!;

        /// <summary>Write the cut AOF here (a new file, or a new/empty directory) and leave the original untouched.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>Where an in-place repair keeps the original bytes (default: beside the AOF, with a time suffix).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BackupDirectory { get; set; }

        /// <summary>Keep only what was written at or before this time (from aof-timestamp-enabled annotations).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ToTimestampParameterSet)]
        public DateTime ToTimestamp { get; set; }

        /// <summary>Cut just before the first command of this kind.</summary>
        [Parameter(Mandatory = true, ParameterSetName = BeforeCommandParameterSet)]
        [ValidateSet("FLUSHALL", "FLUSHDB", IgnoreCase = true)]
        public string BeforeCommand { get; set; } = null!;

        /// <summary>With -BeforeCommand: ignore such commands annotated before this time.</summary>
        [Parameter(ParameterSetName = BeforeCommandParameterSet)]
        public DateTime? After { get; set; }

        /// <summary>Cut a point in time in the original (after a backup) instead of writing a copy.</summary>
        [Parameter(ParameterSetName = ToTimestampParameterSet)]
        [Parameter(ParameterSetName = BeforeCommandParameterSet)]
        public SwitchParameter InPlace { get; set; }

        /// <summary>Allow cuts that can lose much data: at a corruption, or one that leaves nothing.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
            var request = new AofRepairRequest
            {
                ToTimestamp = ParameterSetName == ToTimestampParameterSet ? ToUtc(ToTimestamp) : null,
                BeforeCommand = ParameterSetName == BeforeCommandParameterSet ? BeforeCommand : null,
                After = After is DateTime after ? ToUtc(after) : null,
            };
            AofRepairPlan plan;
            try
            {
                plan = RunEngine(hooks => AofRepairer.PlanAsync(path, request, hooks.Cancellation));
            }
            catch (Exception failure) when (failure is RedisRecoveryException or IOException or UnauthorizedAccessException)
            {
                WriteError(ToErrorRecord(failure, path));
                return;
            }
            WriteVerbose(plan.Describe());
            if (plan.Action == AofRepairAction.None && ParameterSetName != DamageParameterSet)
            {
                WriteWarning($"{path}: {plan.Reason}; nothing is cut.");
            }
            var destination = Destination != null ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination)
                : ParameterSetName != DamageParameterSet && !InPlace ? plan.DefaultCopyPath(DateTime.UtcNow) : null;
            if (plan.Action == AofRepairAction.None && Destination == null)
            {
                WriteObject(new AofRepairResult(plan, plan.Path, null));
                return;
            }
            var refused = plan.RequiresForce && !Force;
            if (refused && !WhatIfRequested)
            {
                var refusal = new RedisRecoveryException("AofRepairNeedsForce", FailureKind.Conflict,
                    $"{plan.Describe()}. This cut can lose much data; check the AOF by hand first, or run again with -Force.") { Target = path };
                WriteError(new ErrorRecord(refusal, refusal.ErrorId, ErrorCategory.InvalidOperation, path));
                return;
            }
            var action = destination != null ? $"Write a cut copy to {destination}: {plan.Describe()}" : $"Cut in place, keeping a backup: {plan.Describe()}";
            if (!ShouldProcess(path, refused ? action + " (refused without -Force)" : action))
            {
                return;
            }
            // Resolved here: session state belongs to the pipeline thread, and the engine runs on another.
            var backupDirectory = BackupDirectory == null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(BackupDirectory);
            try
            {
                var result = destination != null
                    ? RunEngine(hooks => AofRepairer.ApplyToCopyAsync(plan, destination, hooks.Log, hooks.Cancellation))
                    : RunEngine(hooks => AofRepairer.ApplyInPlaceAsync(plan, backupDirectory, hooks.Log, hooks.Cancellation));
                WriteObject(result);
            }
            catch (Exception failure) when (failure is RedisRecoveryException or IOException or UnauthorizedAccessException)
            {
                WriteError(ToErrorRecord(failure, path));
            }
        }

        /// <summary>-WhatIf shows even a plan that needs -Force, instead of the refusal.</summary>
        private bool WhatIfRequested => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf)
            ? ((SwitchParameter)whatIf).IsPresent
            : LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));

        /// <summary>A [DateTime] without a kind is local time, as PowerShell users type it.</summary>
        private static DateTimeOffset ToUtc(DateTime time) =>
            new(time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Local).ToUniversalTime() : time.ToUniversalTime());
    }
}
