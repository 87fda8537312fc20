using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// For a server on this host: BGSAVE (or wait for the one running), wait through INFO persistence until it
    /// finished well, then copy <c>dir/dbfilename</c>. Redis writes a temporary file and renames it into place, so
    /// the file is never modified once visible and copying it while the server runs is safe.
    /// </summary>
    internal sealed class BgsaveTransfer : SnapshotTransfer
    {
        private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
        private readonly FileStream _file;
        private readonly long _saveStartedUnixSeconds;

        private BgsaveTransfer(FileStream file, long saveStartedUnixSeconds, string? serverVersion)
        {
            _file = file;
            _saveStartedUnixSeconds = saveStartedUnixSeconds;
            ServerVersion = serverVersion;
        }

        public override BackupMethod Method => BackupMethod.Bgsave;

        public override long? Length => _file.Length;

        public string DataFilePath => _file.Name;

        /// <summary>The server's RDB path, from CONFIG GET; fails (BgsaveUnavailable) when CONFIG is refused.</summary>
        public static async Task<string> LocateDataFileAsync(RedisConnection connection, CancellationToken cancellationToken)
        {
            var directory = await ConfigGetAsync(connection, "dir", cancellationToken).ConfigureAwait(false);
            var fileName = await ConfigGetAsync(connection, "dbfilename", cancellationToken).ConfigureAwait(false);
            return Path.Combine(directory, fileName);
        }

        /// <summary>Null when the directory holding <paramref name="dataFile"/> can be read here; otherwise why not.</summary>
        public static string? WhyNotReadable(string dataFile)
        {
            var directory = Path.GetDirectoryName(dataFile) ?? dataFile;
            try
            {
                if (!Directory.Exists(directory))
                {
                    return $"the server's data directory '{directory}' does not exist on this machine (is the server on another host?)";
                }
                using var entries = Directory.EnumerateFileSystemEntries(directory).GetEnumerator();
                entries.MoveNext();
                return null;
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                return $"the server's data directory '{directory}' is not readable here ({ex.Message})";
            }
        }

        public static async Task<BgsaveTransfer> StartAsync(RedisConnectionOptions options, TimeSpan timeout, IProgress<OperationProgress>? progress,
            IOperationLog log, CancellationToken cancellationToken)
        {
            await using var connection = await RedisConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            var address = connection.Endpoint.Address;
            var dataFile = await LocateDataFileAsync(connection, cancellationToken).ConfigureAwait(false);
            if (WhyNotReadable(dataFile) is { } problem)
            {
                throw new RedisRecoveryException(SnapshotErrorIds.DataDirectoryNotReadable, FailureKind.NotFound,
                    $"Cannot copy the BGSAVE file of {address}: {problem}. Run the backup on the Redis host, or use -Method Replication or Logical.")
                {
                    Target = dataFile,
                };
            }
            var before = await RedisInfo.ReadAsync(connection, "persistence", cancellationToken).ConfigureAwait(false);
            var bgsave = new RedisCommand("BGSAVE") { UnavailableAdvice = "Use -Method Replication or -Method Logical." };
            var joinsRunningSave = false;
            try
            {
                await connection.ExecuteAsync(bgsave, cancellationToken).ConfigureAwait(false);
                log.Verbose($"{address} started a BGSAVE.");
            }
            catch (RedisServerErrorException error) when (error.ServerMessage.IndexOf("already in progress", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                log.Verbose($"{address} is already saving; waiting for that save instead of starting another.");
                joinsRunningSave = true;
            }
            catch (RedisServerErrorException error) when (error.ServerMessage.IndexOf("BGSAVE SCHEDULE", StringComparison.Ordinal) >= 0)
            {
                // An AOF rewrite runs: the server starts our save as soon as it ends.
                log.Verbose($"{address} is rewriting its AOF; the BGSAVE is scheduled after it.");
                await connection.ExecuteAsync(new RedisCommand("BGSAVE", "SCHEDULE"), cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerErrorException error) when (error.Kind == FailureKind.CommandUnavailable)
            {
                throw new RedisRecoveryException(SnapshotErrorIds.BgsaveUnavailable, FailureKind.CommandUnavailable, error.Message, error) { Target = error.Target };
            }
            var saveStarted = await WaitForSaveAsync(connection, before, joinsRunningSave, timeout, progress, cancellationToken).ConfigureAwait(false);
            var serverVersion = connection.ServerVersion ?? (await RedisInfo.ReadAsync(connection, "server", cancellationToken).ConfigureAwait(false))["redis_version"];
            FileStream file;
            try
            {
                // Delete sharing: the server may rename its next save over this name while we copy; we keep our inode.
                file = new FileStream(dataFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                throw new RedisRecoveryException(SnapshotErrorIds.DataDirectoryNotReadable, FailureKind.NotFound,
                    $"{address} saved '{dataFile}', but it cannot be read here: {ex.Message}", ex) { Target = dataFile };
            }
            return new BgsaveTransfer(file, saveStarted, serverVersion);
        }

        public override async Task CopyToAsync(Stream destination, CancellationToken cancellationToken)
        {
            var buffer = new byte[CopyBufferSize];
            int read;
            while ((read = await _file.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await WriteAsync(destination, buffer, read, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// An RDB records when its save began (aux ctime): one begun before the save we waited for is not that
        /// snapshot, so the directory seen here is probably another machine's (a remote server whose dir happens to
        /// exist locally too).
        /// </summary>
        public override void CheckContent(RdbFileCheck check)
        {
            if (check.CreatedUtc is { } created && created.ToUnixTimeSeconds() < _saveStartedUnixSeconds - 1)
            {
                throw new RedisRecoveryException(SnapshotErrorIds.DataFileMismatch, FailureKind.Conflict,
                    $"'{DataFilePath}' was written at {created:u}, before the server's last save began: it is not that server's snapshot (is the server on another host?).")
                {
                    Target = DataFilePath,
                };
            }
        }

        public override ValueTask DisposeAsync()
        {
            _file.Dispose();
            return default;
        }

        private static async Task<string> ConfigGetAsync(RedisConnection connection, string parameter, CancellationToken cancellationToken)
        {
            var command = new RedisCommand("CONFIG", "GET", parameter) { UnavailableAdvice = "Use -Method Replication or -Method Logical." };
            RespValue reply;
            try
            {
                reply = await connection.ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerErrorException error) when (error.Kind == FailureKind.CommandUnavailable)
            {
                throw new RedisRecoveryException(SnapshotErrorIds.BgsaveUnavailable, FailureKind.CommandUnavailable,
                    $"The BGSAVE method needs CONFIG GET to find the server's RDB file: {error.Message}", error) { Target = error.Target };
            }
            foreach (var pair in reply.AsPairs())
            {
                if (string.Equals(pair.Key.AsString(), parameter, StringComparison.OrdinalIgnoreCase) && pair.Value.AsString() is { } value)
                {
                    return value;
                }
            }
            throw new RedisRecoveryException(SnapshotErrorIds.BgsaveUnavailable, FailureKind.CommandUnavailable,
                $"{connection.Endpoint.Address} did not report its '{parameter}' setting, so its RDB file cannot be found.") { Target = connection.Endpoint.ToString() };
        }

        /// <summary>
        /// Waits until no save runs and one finished since <paramref name="before"/> (or, when joining a save that
        /// was already running, until it ends); returns when it began, in Unix seconds (end time less its duration).
        /// </summary>
        private static async Task<long> WaitForSaveAsync(RedisConnection connection, RedisInfo before, bool joinsRunningSave, TimeSpan timeout,
            IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var address = connection.Endpoint.Address;
            var savesBefore = before.GetInt64("rdb_saves");
            var lastSaveBefore = before.GetInt64("rdb_last_save_time");
            var watch = Stopwatch.StartNew();
            while (true)
            {
                var info = await RedisInfo.ReadAsync(connection, "persistence", cancellationToken).ConfigureAwait(false);
                var saves = info.GetInt64("rdb_saves");
                var lastSave = info.GetInt64("rdb_last_save_time") ?? 0;
                var status = info["rdb_last_bgsave_status"];
                var saved = joinsRunningSave || (savesBefore is long earlier && saves is long now ? now > earlier : lastSave != lastSaveBefore);
                var failedSinceBefore = status != "ok" && before["rdb_last_bgsave_status"] == "ok";
                if (info.GetInt64("rdb_bgsave_in_progress") == 0 && (saved || failedSinceBefore))
                {
                    if (status != null && status != "ok")
                    {
                        throw new RedisRecoveryException(SnapshotErrorIds.BgsaveFailed, FailureKind.ServerError,
                            $"The BGSAVE on {address} failed (rdb_last_bgsave_status:{status}); see the server's log (disk full, permissions, fork refused?).")
                        {
                            Target = connection.Endpoint.ToString(),
                        };
                    }
                    return lastSave - Math.Max(0, info.GetInt64("rdb_last_bgsave_time_sec") ?? 0);
                }
                if (watch.Elapsed > timeout)
                {
                    throw new RedisRecoveryException(SnapshotErrorIds.BgsaveTimeout, FailureKind.Timeout,
                        $"The BGSAVE on {address} did not finish within {timeout.TotalSeconds:0.#} s; it goes on in the server, raise -Timeout to wait for it.")
                    {
                        Target = connection.Endpoint.ToString(),
                    };
                }
                var done = info.GetInt64("current_save_keys_processed") ?? 0;
                var total = info.GetInt64("current_save_keys_total");
                progress?.Report(new OperationProgress("Waiting for BGSAVE", $"{address}: {done} keys saved", done, total));
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
