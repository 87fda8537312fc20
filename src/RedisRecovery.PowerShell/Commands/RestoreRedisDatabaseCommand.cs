using System;
using System.Management.Automation;
using System.Security;
using RedisRecovery.Backup;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Restore;
using RedisRecovery.Resp;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>
    /// Restores an RDB backup, an RDB file or an AOF into a Redis server: online with pipelined RESTORE (the
    /// default), or offline by swapping the server's files. Writes one RestoreResult per source.
    /// </summary>
    [Cmdlet(VerbsData.Restore, "RedisDatabase", DefaultParameterSetName = OnlineParameterSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(RestoreResult))]
    public sealed class RestoreRedisDatabaseCommand : RedisEndpointCmdlet, IDynamicParameters
    {
        private readonly BackupStoreParameters _store = new();

        public const string OnlineParameterSet = nameof(RestoreMode.Online);
        public const string FileSwapParameterSet = nameof(RestoreMode.FileSwap);

        /// <summary>
        /// An RDB file, a single AOF file, a multi-part AOF directory, or a backup on S3 (s3://...) or encrypted (.rdb.gpg);
        /// backups from Get-RedisBackup bind by their Path.
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = null!;

        /// <summary>The server to restore into (host:port, redis://..., rediss://..., or a unix socket path).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Endpoint { get; set; } = null!;

        /// <summary>
        /// Online (default) or FileSwap. It must agree with the parameters given (checked before anything is read):
        /// FileSwap takes -StartCommand/-StopCommand, Online the others. Not mandatory in the FileSwap set, so a
        /// forgotten -Mode is an error, never a prompt.
        /// </summary>
        [Parameter(ParameterSetName = OnlineParameterSet)]
        [Parameter(ParameterSetName = FileSwapParameterSet)]
        public RestoreMode Mode { get => (RestoreMode)_mode; set => _mode = (int)value; }

        [Parameter(ParameterSetName = OnlineParameterSet)]
        public KeyConflictPolicy KeyConflict { get => (KeyConflictPolicy)_keyConflict; set => _keyConflict = (int)value; }

        // Engine enums are stored as int: Import-Module lists this type before the module initializer makes the engine
        // loadable, and a field of an engine value type would make the runtime load the engine then (ImportOrderTests).
        private int _mode = (int)RestoreMode.Online;
        private int _keyConflict = (int)KeyConflictPolicy.Fail;

        /// <summary>With -KeyConflict Fail: write into a target that already holds keys.</summary>
        [Parameter(ParameterSetName = OnlineParameterSet)]
        public SwitchParameter Force { get; set; }

        /// <summary>Empty the target first: FLUSHDB of -TargetDatabase/-Database, or FLUSHALL.</summary>
        [Parameter(ParameterSetName = OnlineParameterSet)]
        public SwitchParameter FlushTarget { get; set; }

        [Parameter(ParameterSetName = OnlineParameterSet)]
        [ValidateRange(0, int.MaxValue)]
        public int? Database { get; set; }

        [Parameter(ParameterSetName = OnlineParameterSet)]
        [ValidateRange(0, int.MaxValue)]
        public int? TargetDatabase { get; set; }

        [Parameter(ParameterSetName = OnlineParameterSet)]
        [ValidateNotNullOrEmpty]
        public string? KeyPattern { get; set; }

        [Parameter(ParameterSetName = OnlineParameterSet)]
        [ValidateRange(1, int.MaxValue)]
        public int? MaxOpsPerSecond { get; set; }

        /// <summary>A progress file: an interrupted restore run again with the same journal continues where it stopped.</summary>
        [Parameter(ParameterSetName = OnlineParameterSet)]
        [ValidateNotNullOrEmpty]
        public string? Journal { get; set; }

        /// <summary>Verify by key counts only, without DEBUG DIGEST (which blocks the server for seconds per million keys)
        /// nor the source's digest computed to compare with it.</summary>
        [Parameter]
        public SwitchParameter SkipDigest { get; set; }

        [Parameter(ParameterSetName = OnlineParameterSet)]
        public DateTimeOffset? ToTimestamp { get; set; }

        [Parameter(ParameterSetName = OnlineParameterSet)]
        [ValidateSet("FLUSHALL", "FLUSHDB")]
        public string? BeforeCommand { get; set; }

        /// <summary>FileSwap: stops the server (default SHUTDOWN NOSAVE).</summary>
        [Parameter(ParameterSetName = FileSwapParameterSet)]
        public ScriptBlock? StopCommand { get; set; }

        /// <summary>FileSwap: starts the server again, e.g. { Start-Service redis } or { sudo systemctl start redis-server }.</summary>
        [Parameter(Mandatory = true, ParameterSetName = FileSwapParameterSet)]
        public ScriptBlock StartCommand { get; set; } = null!;

        /// <summary>Decrypts an encrypted backup (.rdb.gpg) on its way to a verified local copy.</summary>
        [Parameter]
        public SecureString? Passphrase { get; set; }

        public object GetDynamicParameters() => _store;

        /// <summary>
        /// -Mode and the parameter set must agree, or a restore would fail (or ignore parameters) half-way, after a
        /// download: -Mode FileSwap without -StartCommand lands in the Online set, -StartCommand without -Mode FileSwap
        /// in the FileSwap set with the default Online mode.
        /// </summary>
        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            var problem = ParameterSetName == FileSwapParameterSet && Mode != RestoreMode.FileSwap
                ? $"-StopCommand and -StartCommand belong to -Mode FileSwap, but the mode is {Mode}: add -Mode FileSwap, or leave them out for an online restore."
                : ParameterSetName == OnlineParameterSet && Mode == RestoreMode.FileSwap
                ? "-Mode FileSwap needs -StartCommand (and -StopCommand unless SHUTDOWN NOSAVE may stop the server), and takes none of the online parameters (-KeyConflict, -Force, -FlushTarget, -Database, -TargetDatabase, -KeyPattern, -MaxOpsPerSecond, -Journal, -ToTimestamp, -BeforeCommand)."
                : null;
            if (problem != null)
            {
                ThrowTerminatingError(ToErrorRecord(new RedisRecoveryException(RestoreErrorIds.InvalidOptions, FailureKind.InvalidArgument, problem), Mode));
            }
        }

        protected override void ProcessRecord()
        {
            RedisConnectionOptions target;
            try
            {
                target = CreateConnectionOptions(RedisEndpoint.Parse(Endpoint));
            }
            catch (RedisRecoveryException exception)
            {
                ThrowTerminatingError(ToErrorRecord(exception, RedisEndpoint.Redact(Endpoint)));
                return;
            }
            var journal = Journal is null ? null : GetUnresolvedProviderPathFromPSPath(Journal);
            if (!LocalBackupCopy.IsNeededFor(Path))
            {
                Restore(GetUnresolvedProviderPathFromPSPath(Path), origin: null, target, journal, confirmed: false);
                return;
            }
            // Asked before the download: a -WhatIf (or a "no") must not first fetch and decrypt a backup of many GiB.
            if (!ShouldProcess(target.Endpoint.ToString(), Describe($"{Path}, once fetched into a verified local copy,", planFrom: null)))
            {
                return;
            }
            LocalBackupCopy local;
            try
            {
                local = FetchLocalCopyIfNeeded(Path, _store, Passphrase)!;
            }
            catch (Exception exception) when (exception is RedisRecoveryException or System.IO.IOException or UnauthorizedAccessException)
            {
                WriteError(ToErrorRecord(exception, Path));
                return;
            }
            using (local)
            {
                Restore(local.Path, new RestoreSourceOrigin(local.OriginalName, local.Backup.Sha256), target, journal, confirmed: true);
            }
        }

        /// <summary>Restores <paramref name="source"/>, a local file (a copy of <paramref name="origin"/> when that is set);
        /// asks first unless the caller already did.</summary>
        private void Restore(string source, RestoreSourceOrigin? origin, RedisConnectionOptions target, string? journal, bool confirmed)
        {
            var sourceName = origin?.Name ?? source;
            try
            {
                // Built on the pipeline thread (they resolve PowerShell paths); only the callbacks need the engine's hooks.
                RestoreOptions Options(EngineHooks hooks) => CreateOptions(source, origin, target, journal, hooks);
                if (!confirmed && !ShouldProcess(target.Endpoint.ToString(), Describe(source, Options)))
                {
                    return;
                }
                var result = RunEngine(hooks => RedisRestorer.RestoreAsync(Options(hooks), hooks.Progress, hooks.Log, hooks.Cancellation));
                if (result.WroteNothing)
                {
                    WriteError(new ErrorRecord(new RedisRecoveryException(RestoreErrorIds.TargetNotEmpty, FailureKind.Conflict, result.StopReason!),
                        RestoreErrorIds.TargetNotEmpty, ErrorCategory.ResourceExists, target.Endpoint.ToString()));
                }
                WriteObject(result);
            }
            catch (RestoreInterruptedException interrupted)
            {
                WriteObject(interrupted.PartialResult);
                WriteError(ToErrorRecord(interrupted, sourceName));
            }
            catch (Exception exception) when (exception is RedisRecoveryException or System.IO.IOException or UnauthorizedAccessException)
            {
                WriteError(ToErrorRecord(exception, sourceName));
            }
        }

        /// <summary>
        /// The ShouldProcess text: for FileSwap the computed plan, so -WhatIf shows every step; without
        /// <paramref name="planFrom"/> (the source is not local yet) the plan cannot be computed and is not shown.
        /// </summary>
        private string Describe(string source, Func<EngineHooks, RestoreOptions>? planFrom)
        {
            if (Mode == RestoreMode.FileSwap)
            {
                if (planFrom is null)
                {
                    return $"Restore {source} by swapping the server's files (the steps are planned once the copy is local)";
                }
                var plan = RunEngine(hooks => RedisRestorer.PlanFileSwapAsync(planFrom(hooks), hooks.Cancellation));
                return $"Restore {source} by swapping the server's files:{Environment.NewLine}{plan}";
            }
            return $"Restore {source}" +
                (FlushTarget ? (TargetDatabase ?? Database) is int db ? $" after emptying database {db} (FLUSHDB)" : " after emptying every database (FLUSHALL)" : string.Empty) +
                (KeyConflict == KeyConflictPolicy.Replace ? ", replacing keys that exist" : string.Empty);
        }

        private RestoreOptions CreateOptions(string source, RestoreSourceOrigin? origin, RedisConnectionOptions target, string? journal, EngineHooks hooks) =>
            new(source, target)
            {
                Origin = origin,
                Mode = Mode,
                KeyConflict = KeyConflict,
                Force = Force,
                FlushTarget = FlushTarget,
                Database = Database,
                TargetDatabase = TargetDatabase,
                KeyPattern = KeyPattern,
                MaxOpsPerSecond = MaxOpsPerSecond,
                JournalPath = journal,
                ToTimestamp = ToTimestamp,
                BeforeCommand = BeforeCommand,
                SkipDigest = SkipDigest,
                StopServer = OnPipelineThread(StopCommand, hooks),
                StartServer = OnPipelineThread(StartCommand, hooks),
            };

        /// <summary>An engine callback that runs the scriptblock on the pipeline thread and completes when it has run.</summary>
        private static Func<CancellationToken, Task>? OnPipelineThread(ScriptBlock? script, EngineHooks hooks) =>
            script is null ? null : _ => hooks.InvokeOnPipelineThread(() => script.Invoke());
    }
}
