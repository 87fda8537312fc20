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

        [Parameter(ParameterSetName = OnlineParameterSet)]
        [Parameter(Mandatory = true, ParameterSetName = FileSwapParameterSet)]
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

        protected override void ProcessRecord()
        {
            LocalBackupCopy? local;
            try
            {
                local = FetchLocalCopyIfNeeded(Path, _store, Passphrase);
            }
            catch (Exception exception) when (exception is RedisRecoveryException or System.IO.IOException or UnauthorizedAccessException)
            {
                WriteError(ToErrorRecord(exception, Path));
                return;
            }
            using (local)
            {
                Restore(local?.Path ?? GetUnresolvedProviderPathFromPSPath(Path));
            }
        }

        private void Restore(string source)
        {
            var journal = Journal is null ? null : GetUnresolvedProviderPathFromPSPath(Journal);
            RedisConnectionOptions target;
            try
            {
                target = CreateConnectionOptions(RedisEndpoint.Parse(Endpoint));
            }
            catch (RedisRecoveryException exception)
            {
                ThrowTerminatingError(ToErrorRecord(exception, Endpoint));
                return;
            }
            try
            {
                // Built on the pipeline thread (they resolve PowerShell paths); only the callbacks need the engine's hooks.
                RestoreOptions Options(EngineHooks hooks) => CreateOptions(source, target, journal, hooks);
                if (!ShouldProcess(target.Endpoint.ToString(), Describe(source, Options)))
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
                WriteError(ToErrorRecord(interrupted, source));
            }
            catch (Exception exception) when (exception is RedisRecoveryException or System.IO.IOException or UnauthorizedAccessException)
            {
                WriteError(ToErrorRecord(exception, source));
            }
        }

        /// <summary>The ShouldProcess text: for FileSwap the computed plan, so -WhatIf shows every step.</summary>
        private string Describe(string source, Func<EngineHooks, RestoreOptions> options)
        {
            if (Mode == RestoreMode.FileSwap)
            {
                var plan = RunEngine(hooks => RedisRestorer.PlanFileSwapAsync(options(hooks), hooks.Cancellation));
                return $"Restore {source} by swapping the server's files:{Environment.NewLine}{plan}";
            }
            return $"Restore {source}" +
                (FlushTarget ? (TargetDatabase ?? Database) is int db ? $" after emptying database {db} (FLUSHDB)" : " after emptying every database (FLUSHALL)" : string.Empty) +
                (KeyConflict == KeyConflictPolicy.Replace ? ", replacing keys that exist" : string.Empty);
        }

        private RestoreOptions CreateOptions(string source, RedisConnectionOptions target, string? journal, EngineHooks hooks) => new(source, target)
        {
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
