using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Security;
using RedisRecovery.Backup;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.PowerShell
{
    /// <summary>
    /// What every cmdlet of the module shares: Ctrl+C cancels the engine, engine progress and messages reach the
    /// host from the pipeline thread only, and engine failures become ErrorRecords with stable ids.
    /// </summary>
    public abstract class RedisRecoveryCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        private int _nextActivityId;

        protected CancellationToken StopToken => _stopping.Token;

        protected override void StopProcessing() => _stopping.Cancel();

        public void Dispose() => _stopping.Dispose();

        /// <summary>
        /// Runs an engine operation off the pipeline thread and pumps its progress and messages onto it until the
        /// operation ends; the progress bar is always completed. Engine exceptions propagate unchanged.
        /// </summary>
        protected T RunEngine<T>(Func<EngineHooks, Task<T>> operation)
        {
            var hooks = new EngineHooks(StopToken);
            var activityId = Interlocked.Increment(ref _nextActivityId);
            var task = Task.Run(() => operation(hooks));
            ProgressRecord? lastProgress = null;
            while (true)
            {
                // Not task.Wait: it throws an AggregateException for a failed operation, and callers catch the engine's own types.
                var finished = ((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromMilliseconds(100));
                while (hooks.Pending.TryDequeue(out var item))
                {
                    switch (item)
                    {
                        case OperationProgress progress:
                            lastProgress = new ProgressRecord(activityId, progress.Activity, progress.Status)
                            {
                                PercentComplete = progress.PercentComplete,
                            };
                            WriteProgress(lastProgress);
                            break;
                        case VerboseText verbose:
                            WriteVerbose(verbose.Text);
                            break;
                        case WarningText warning:
                            WriteWarning(warning.Text);
                            break;
                        case PipelineThreadCall call:
                            call.Run();
                            break;
                    }
                }
                if (finished)
                {
                    break;
                }
            }
            if (lastProgress != null)
            {
                lastProgress.RecordType = ProgressRecordType.Completed;
                WriteProgress(lastProgress);
            }
            return task.GetAwaiter().GetResult();
        }

        /// <summary>
        /// A verified plain local copy of the backup at <paramref name="path"/> when it is on S3 or encrypted (downloaded
        /// and decrypted as a stream, checked against its sidecar); null when the file can be read where it is.
        /// </summary>
        protected LocalBackupCopy? FetchLocalCopyIfNeeded(string path, BackupStoreParameters storeParameters, SecureString? passphrase)
        {
            if (!LocalBackupCopy.IsNeededFor(path))
            {
                return null;
            }
            var store = BackupStoreLocation.OpenContaining(this, path, storeParameters, out var fileName);
            try
            {
                return RunEngine(hooks => LocalBackupCopy.CreateAsync(store, fileName, passphrase, hooks.Progress, hooks.Log, hooks.Cancellation));
            }
            finally
            {
                BackupStoreLocation.Close(store);
            }
        }

        /// <summary>The error record for an engine failure, with the engine's stable id and a matching category.</summary>
        protected static ErrorRecord ToErrorRecord(Exception exception, object? target)
        {
            switch (exception)
            {
                case RedisRecoveryException known:
                    return new ErrorRecord(known, known.ErrorId, ToCategory(known.Kind), known.Target ?? target);
                case OperationCanceledException:
                    return new ErrorRecord(exception, "OperationStopped", ErrorCategory.OperationStopped, target);
                case UnauthorizedAccessException:
                    return new ErrorRecord(exception, "AccessDenied", ErrorCategory.PermissionDenied, target);
                case System.IO.IOException:
                    return new ErrorRecord(exception, "IOError", ErrorCategory.WriteError, target);
                default:
                    return new ErrorRecord(exception, "UnexpectedError", ErrorCategory.NotSpecified, target);
            }
        }

        internal static ErrorCategory ToCategory(FailureKind kind) => kind switch
        {
            FailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
            FailureKind.NotFound => ErrorCategory.ObjectNotFound,
            FailureKind.ConnectionFailed => ErrorCategory.ConnectionError,
            FailureKind.AuthenticationFailed => ErrorCategory.AuthenticationError,
            FailureKind.SecurityError => ErrorCategory.SecurityError,
            FailureKind.Timeout => ErrorCategory.OperationTimeout,
            FailureKind.ServerError => ErrorCategory.InvalidResult,
            FailureKind.CommandUnavailable => ErrorCategory.NotEnabled,
            FailureKind.CorruptData => ErrorCategory.InvalidData,
            FailureKind.NotSupported => ErrorCategory.NotImplemented,
            FailureKind.Conflict => ErrorCategory.ResourceExists,
            FailureKind.IOError => ErrorCategory.WriteError,
            _ => ErrorCategory.NotSpecified,
        };

        /// <summary>
        /// Handed to the engine: its progress and log go into one queue that only the pipeline thread drains,
        /// because PowerShell's Write* methods must not be called from other threads.
        /// </summary>
        protected sealed class EngineHooks : IProgress<OperationProgress>, IOperationLog
        {
            internal EngineHooks(CancellationToken cancellation)
            {
                Cancellation = cancellation;
            }

            public CancellationToken Cancellation { get; }

            public IProgress<OperationProgress> Progress => this;

            public IOperationLog Log => this;

            internal ConcurrentQueue<object> Pending { get; } = new ConcurrentQueue<object>();

            public void Report(OperationProgress value) => Pending.Enqueue(value);

            public void Verbose(string message) => Pending.Enqueue(new VerboseText(message));

            public void Warning(string message) => Pending.Enqueue(new WarningText(message));

            /// <summary>
            /// Runs <paramref name="action"/> on the pipeline thread (where a ScriptBlock must run) and completes when it
            /// has: the engine awaits the task, the pipeline thread fulfils it while it pumps progress.
            /// </summary>
            public Task InvokeOnPipelineThread(Action action)
            {
                var call = new PipelineThreadCall(action);
                Pending.Enqueue(call);
                return call.Completion.Task;
            }
        }

        private sealed class PipelineThreadCall
        {
            private readonly Action _action;

            public PipelineThreadCall(Action action) => _action = action;

            public TaskCompletionSource<bool> Completion { get; } = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

            public void Run()
            {
                try
                {
                    _action();
                    Completion.SetResult(true);
                }
                catch (Exception exception)
                {
                    Completion.SetException(exception);
                }
            }
        }

        private sealed class VerboseText
        {
            public VerboseText(string text) => Text = text;

            public string Text { get; }
        }

        private sealed class WarningText
        {
            public WarningText(string text) => Text = text;

            public string Text { get; }
        }
    }
}
