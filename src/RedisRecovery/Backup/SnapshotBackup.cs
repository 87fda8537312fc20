using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;
using RedisRecovery.Storage;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// Takes one backup of a live server: obtains the snapshot by the requested method (or the best one the server
    /// allows), streams it through the atomic <see cref="BackupWriter"/> (SHA-256 on the way, fsync, full parse,
    /// sidecar, rename) and returns the cataloged backup.
    /// </summary>
    public static class SnapshotBackup
    {
        private const long ProgressStep = 4L * 1024 * 1024;

        public static async Task<RdbBackup> RunAsync(SnapshotRequest request, IProgress<OperationProgress>? progress = null,
            IOperationLog? log = null, CancellationToken cancellationToken = default)
        {
            log ??= NullOperationLog.Instance;
            var connection = request.Connection;
            var store = new LocalDirectoryStore(request.Destination);
            await using var transfer = await StartAsync(request, progress, log, cancellationToken).ConfigureAwait(false);
            var createdUtc = request.UtcNow?.Invoke() ?? DateTime.UtcNow;
            var address = connection.Endpoint.Address;
            var writeRequest = new BackupWriteRequest(request.Name, createdUtc, address, transfer.Method, transfer.PointInTime)
            {
                RedisVersion = transfer.ServerVersion,
                MethodDetail = transfer.Reason,
            };
            log.Verbose($"Backing up {address} by {transfer.Method} into {store.PathOf(writeRequest.FileName)}: {transfer.Reason}");
            var activity = $"Backing up {address} ({transfer.Method})";
            var bytes = progress == null ? null : new ByteProgress(progress, activity, transfer.Length);
            await using var check = new StreamingRdbCheck(writeRequest.FileName, cancellationToken);
            return await new BackupWriter(store).WriteAsync(
                writeRequest,
                (destination, token) => transfer.CopyToAsync(check.Tee(destination), token),
                (staged, token) => VerifyAsync(check, staged, transfer),
                bytes,
                cancellationToken).ConfigureAwait(false);
        }

        private static async Task<SnapshotTransfer> StartAsync(SnapshotRequest request, IProgress<OperationProgress>? progress,
            IOperationLog log, CancellationToken cancellationToken)
        {
            var options = request.Connection;
            switch (request.Method)
            {
                case SnapshotMethod.Replication:
                    return Explained(await ReplicationTransfer.StartAsync(options, log, cancellationToken).ConfigureAwait(false), "requested with -Method Replication");
                case SnapshotMethod.Bgsave:
                    return Explained(await BgsaveTransfer.StartAsync(options, request.Timeout, progress, log, cancellationToken).ConfigureAwait(false), "requested with -Method Bgsave");
                case SnapshotMethod.Logical:
                    return Explained(await LogicalTransfer.StartAsync(options, request.MaxOpsPerSecond, log, cancellationToken).ConfigureAwait(false), "requested with -Method Logical");
            }

            var refusals = new List<string>();
            try
            {
                return Explained(await ReplicationTransfer.StartAsync(options, log, cancellationToken).ConfigureAwait(false), "the server accepts replicas (Auto's first choice)");
            }
            catch (RedisRecoveryException refused) when (IsMethodRefusal(refused))
            {
                refusals.Add("Replication: " + refused.Message);
                log.Verbose($"Auto: replication from {options.Endpoint.Address} is not possible ({refused.Message}); trying BGSAVE.");
            }
            try
            {
                return Explained(await BgsaveTransfer.StartAsync(options, request.Timeout, progress, log, cancellationToken).ConfigureAwait(false),
                    "replication refused; the server's data directory is readable here. " + refusals[0]);
            }
            catch (RedisRecoveryException refused) when (IsMethodRefusal(refused) || refused.ErrorId == SnapshotErrorIds.DataDirectoryNotReadable)
            {
                refusals.Add("Bgsave: " + refused.Message);
                log.Verbose($"Auto: BGSAVE on {options.Endpoint.Address} cannot be used ({refused.Message}); falling back to a logical copy (SCAN + DUMP).");
            }
            return Explained(await LogicalTransfer.StartAsync(options, request.MaxOpsPerSecond, log, cancellationToken).ConfigureAwait(false),
                "replication and BGSAVE are not available. " + string.Join(" ", refusals));
        }

        /// <summary>The server said no to this method (disabled, renamed, not permitted): another method may still work.</summary>
        private static bool IsMethodRefusal(RedisRecoveryException exception) =>
            exception.Kind == FailureKind.CommandUnavailable || exception.ErrorId == SnapshotErrorIds.ReplicationRefused;

        private static SnapshotTransfer Explained(SnapshotTransfer transfer, string reason)
        {
            transfer.Reason = reason;
            return transfer;
        }

        /// <summary>
        /// The full parse ran while the bytes streamed into the staged file (the same bytes, hashed on the same way),
        /// so the verdict is ready once the transfer is.
        /// </summary>
        private static async Task<RdbContentFacts> VerifyAsync(StreamingRdbCheck streaming, StagedBackup staged, SnapshotTransfer transfer)
        {
            var check = await streaming.CompleteAsync().ConfigureAwait(false);
            if (!check.IsValid)
            {
                throw check.Exception!;
            }
            if (check.RdbLength != staged.SizeBytes)
            {
                throw new CorruptDataException(staged.FileName, check.RdbLength ?? 0, $"the end of the snapshot, found {staged.SizeBytes - check.RdbLength} more bytes after the RDB's checksum");
            }
            transfer.CheckContent(check);
            return new RdbContentFacts(check.RdbVersion!.Value, check.KeysPerDatabase) { RedisVersion = check.RedisVersion };
        }

        /// <summary>Turns the writer's running byte count into progress reports, one per few MiB.</summary>
        private sealed class ByteProgress : IProgress<long>
        {
            private readonly IProgress<OperationProgress> _progress;
            private readonly string _activity;
            private readonly long? _total;
            private long _nextReport;

            public ByteProgress(IProgress<OperationProgress> progress, string activity, long? total)
            {
                _progress = progress;
                _activity = activity;
                _total = total;
            }

            public void Report(long value)
            {
                if (value >= _nextReport || value == _total)
                {
                    _nextReport = value + ProgressStep;
                    var of = _total is long total ? $" of {total / (1024 * 1024)} MiB" : string.Empty;
                    _progress.Report(new OperationProgress(_activity, $"{value / (1024 * 1024)} MiB{of} received", value, _total));
                }
            }
        }
    }
}
