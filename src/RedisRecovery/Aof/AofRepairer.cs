using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Aof
{
    /// <summary>
    /// Cuts an AOF back to a point Redis can load: the end of the last complete command (damage), or a point in
    /// time (an annotation, or just before an accidental FLUSHALL). Planning reads only; applying either writes a
    /// cut copy to a destination or cuts in place after keeping the original bytes in a backup.
    /// </summary>
    public static class AofRepairer
    {
        public static async Task<AofRepairPlan> PlanAsync(string path, AofRepairRequest request, CancellationToken cancellationToken = default)
        {
            if (request.BeforeCommand != null && request.BeforeCommand.ToUpperInvariant() is not ("FLUSHALL" or "FLUSHDB"))
            {
                throw new RedisRecoveryException("AofRepairInvalidCommand", FailureKind.InvalidArgument, "Only FLUSHALL or FLUSHDB can be cut out as an accident.");
            }
            var reader = await AofReader.OpenAsync(path, cancellationToken).ConfigureAwait(false);
            var beforeCommand = request.BeforeCommand?.ToUpperInvariant();
            var toSeconds = request.ToTimestamp?.ToUnixTimeSeconds();
            var afterSeconds = request.After?.ToUnixTimeSeconds();
            long committed = 0;
            long inTransaction = 0;
            string? lastKept = null;
            string? lastCommitted = null;
            AofCommand? cutAt = null;
            string? cutReason = null;
            var cutAction = AofRepairAction.None;
            long keptAtCut = 0;
            await foreach (var command in reader.ReadCommandsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (cutAt == null)
                {
                    var seconds = command.Timestamp?.ToUnixTimeSeconds();
                    if (toSeconds != null && seconds > toSeconds)
                    {
                        cutAt = command;
                        cutAction = AofRepairAction.CutToTimestamp;
                        cutReason = $"the first command annotated after {request.ToTimestamp!.Value.UtcDateTime:u} (#TS:{seconds})";
                    }
                    else if (beforeCommand != null && command.Name == beforeCommand && (afterSeconds == null || seconds >= afterSeconds))
                    {
                        cutAt = command;
                        cutAction = AofRepairAction.CutBeforeCommand;
                        cutReason = $"{beforeCommand} at {command.File} byte {command.Offset}" + (seconds != null ? $" (#TS:{seconds})" : "");
                    }
                    if (cutAt != null)
                    {
                        keptAtCut = committed;
                        lastKept = lastCommitted;
                    }
                }
                if (command.InTransaction && command.Name != "EXEC")
                {
                    inTransaction++;
                    continue;
                }
                committed += inTransaction + 1;
                inTransaction = 0;
                lastCommitted = $"{command.Name} ({command.File} @ {command.Offset})";
            }
            if ((afterSeconds != null || toSeconds != null) && reader.Result.FirstTimestampUtc == null)
            {
                throw new RedisRecoveryException("AofHasNoTimestamps", FailureKind.InvalidArgument,
                    $"{reader.Result.Path}: the AOF has no #TS: annotations (aof-timestamp-enabled was off), so it cannot be cut by time.") { Target = reader.Result.Path };
            }
            var result = reader.Result;
            var files = reader.Files;
            if (cutAt is AofCommand cut)
            {
                return Plan(reader, cutAction, cutReason!, cut.PartIndex, cut.CutOffset, keptAtCut, committed - keptAtCut, lastKept, requiresForce: cut.PartIndex == 0 && cut.CutOffset == 0);
            }
            switch (result.Status)
            {
                case AofStatus.Valid:
                    var why = beforeCommand != null ? $"no {beforeCommand} found" : toSeconds != null ? "no command is annotated after that time" : "the AOF is valid";
                    return new AofRepairPlan { Path = result.Path, Layout = result.Layout, Action = AofRepairAction.None, StatusBefore = result.Status, Reason = why, CommandsKept = committed, Files = files, Manifest = reader.Manifest };
                case AofStatus.Truncated:
                    var truncatedIndex = files.Count - 1;
                    return Plan(reader, AofRepairAction.CutTruncatedTail, $"truncated: {result.Error} (at byte {result.ErrorOffset})", truncatedIndex,
                        files[truncatedIndex].ValidUpToOffset, committed, inTransaction, lastCommitted, requiresForce: false);
                default:
                    var damagedIndex = files.ToList().FindIndex(f => f.FileName == result.ErrorFile);
                    return Plan(reader, AofRepairAction.CutAtCorruption, $"corrupt: {result.ErrorFile} byte {result.ErrorOffset}: {result.Error}", damagedIndex,
                        files[damagedIndex].ValidUpToOffset, committed, inTransaction, lastCommitted, requiresForce: true);
            }
        }

        private static AofRepairPlan Plan(AofReader reader, AofRepairAction action, string reason, int fileIndex, long cutOffset, long kept, long removed, string? lastKept, bool requiresForce)
        {
            var files = reader.Files;
            var dropped = files.Skip(fileIndex + 1).ToList();
            return new AofRepairPlan
            {
                Path = reader.Result.Path,
                Layout = reader.Result.Layout,
                Action = action,
                StatusBefore = reader.Result.Status,
                Reason = reason,
                CutFile = files[fileIndex].FileName,
                CutFileIndex = fileIndex,
                CutOffset = cutOffset,
                BytesRemoved = files[fileIndex].Length - cutOffset + dropped.Sum(f => f.Length),
                CommandsKept = kept,
                CommandsRemoved = removed,
                LastCommandKept = lastKept,
                FilesDropped = dropped.Select(f => f.FileName).ToList(),
                RequiresForce = requiresForce,
                Files = files,
                Manifest = reader.Manifest,
            };
        }

        /// <summary>
        /// Writes the cut AOF to <paramref name="destination"/> (a new file, or a new/empty directory for a
        /// multi-part AOF); the original is only read.
        /// </summary>
        public static async Task<AofRepairResult> ApplyToCopyAsync(AofRepairPlan plan, string destination, IOperationLog? log = null, CancellationToken cancellationToken = default)
        {
            log ??= NullOperationLog.Instance;
            destination = System.IO.Path.GetFullPath(destination);
            if (plan.Layout == AofLayout.SingleFile)
            {
                if (Directory.Exists(destination))
                {
                    destination = System.IO.Path.Combine(destination, plan.Files[0].FileName);
                }
                EnsureAbsent(destination);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
                var keep = plan.Action == AofRepairAction.None ? plan.Files[0].Length : plan.CutOffset;
                await CopyPrefixAsync(plan.Files[0].FullPath, destination, keep, cancellationToken).ConfigureAwait(false);
                log.Verbose($"Wrote {keep} bytes of {plan.Files[0].FileName} to {destination}.");
                return new AofRepairResult(plan, destination, null);
            }
            if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
            {
                throw new RedisRecoveryException("AofDestinationExists", FailureKind.Conflict, $"{destination}: the destination directory is not empty.") { Target = destination };
            }
            Directory.CreateDirectory(destination);
            var manifest = plan.Manifest!;
            var kept = plan.Action == AofRepairAction.None ? plan.Files : plan.Files.Take(plan.CutFileIndex + 1).ToList();
            try
            {
                for (var i = 0; i < kept.Count; i++)
                {
                    var file = kept[i];
                    var length = plan.Action != AofRepairAction.None && i == plan.CutFileIndex ? plan.CutOffset : file.Length;
                    await CopyPrefixAsync(file.FullPath, System.IO.Path.Combine(destination, file.FileName), length, cancellationToken).ConfigureAwait(false);
                    log.Verbose($"Wrote {length} bytes of {file.FileName} to {destination}.");
                }
                // History files are not copied, so the copy's manifest must not list them either. The manifest comes
                // last: until it exists, the directory is not a loadable AOF.
                var unlisted = manifest.Entries.Where(e => e.Type == AofFileType.History).Select(e => e.FileName).Concat(plan.FilesDropped);
                WriteAtomically(System.IO.Path.Combine(destination, System.IO.Path.GetFileName(manifest.Path)), manifest.TextWithout(unlisted));
            }
            catch
            {
                foreach (var file in kept)
                {
                    File.Delete(System.IO.Path.Combine(destination, file.FileName));
                }
                throw;
            }
            return new AofRepairResult(plan, destination, null);
        }

        /// <summary>
        /// Cuts the AOF where it is, after copying every byte the cut changes or removes into
        /// <paramref name="backupDirectory"/> (default: beside the original, with a UTC time suffix).
        /// </summary>
        public static async Task<AofRepairResult> ApplyInPlaceAsync(AofRepairPlan plan, string? backupDirectory, IOperationLog? log = null, CancellationToken cancellationToken = default)
        {
            log ??= NullOperationLog.Instance;
            if (plan.Action == AofRepairAction.None)
            {
                return new AofRepairResult(plan, plan.Path, null);
            }
            var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            var cutFile = plan.Files[plan.CutFileIndex];
            if (plan.Layout == AofLayout.SingleFile)
            {
                var backup = backupDirectory != null
                    ? System.IO.Path.Combine(CreateDirectory(backupDirectory), cutFile.FileName)
                    : cutFile.FullPath + "." + stamp + ".bak";
                EnsureAbsent(backup);
                await CopyPrefixAsync(cutFile.FullPath, backup, cutFile.Length, cancellationToken).ConfigureAwait(false);
                log.Verbose($"Kept the original {cutFile.FileName} as {backup}.");
                Truncate(cutFile.FullPath, plan.CutOffset);
                return new AofRepairResult(plan, plan.Path, backup);
            }
            var manifest = plan.Manifest!;
            var backupDir = backupDirectory ?? manifest.Directory.TrimEnd(System.IO.Path.DirectorySeparatorChar) + "." + stamp + ".bak";
            if (Directory.Exists(backupDir) && Directory.EnumerateFileSystemEntries(backupDir).Any(e => plan.Files.Any(f => System.IO.Path.GetFileName(e) == f.FileName)))
            {
                throw new RedisRecoveryException("AofBackupExists", FailureKind.Conflict, $"{backupDir}: already holds files of this AOF; choose another -BackupDirectory.") { Target = backupDir };
            }
            CreateDirectory(backupDir);
            foreach (var file in plan.Files.Skip(plan.CutFileIndex))
            {
                await CopyPrefixAsync(file.FullPath, System.IO.Path.Combine(backupDir, file.FileName), file.Length, cancellationToken).ConfigureAwait(false);
            }
            await CopyPrefixAsync(manifest.Path, System.IO.Path.Combine(backupDir, System.IO.Path.GetFileName(manifest.Path)), new FileInfo(manifest.Path).Length, cancellationToken).ConfigureAwait(false);
            log.Verbose($"Kept the original manifest and {plan.Files.Count - plan.CutFileIndex} file(s) in {backupDir}.");
            if (plan.FilesDropped.Count > 0)
            {
                // The manifest is replaced atomically before any file changes: if the process dies after it, the
                // later files are merely unlisted (Test-AofFile names them) and the cut file still loads on its own;
                // cutting first would leave later files listed behind a cut, which Redis would replay after the gap.
                WriteAtomically(manifest.Path, manifest.TextWithout(plan.FilesDropped));
            }
            Truncate(cutFile.FullPath, plan.CutOffset);
            foreach (var dropped in plan.FilesDropped)
            {
                File.Delete(System.IO.Path.Combine(manifest.Directory, dropped));
            }
            return new AofRepairResult(plan, plan.Path, backupDir);
        }

        /// <summary>Writes a temporary file, flushes it to disk, then renames it over the target (as Redis writes its manifest).</summary>
        private static void WriteAtomically(string path, string text)
        {
            var temporary = path + ".tmp";
            using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                var bytes = new UTF8Encoding(false).GetBytes(text);
                output.Write(bytes, 0, bytes.Length);
                output.Flush(flushToDisk: true);
            }
            if (File.Exists(path))
            {
                File.Replace(temporary, path, null);
            }
            else
            {
                File.Move(temporary, path);
            }
        }

        private static string CreateDirectory(string path)
        {
            Directory.CreateDirectory(path);
            return path;
        }

        private static void EnsureAbsent(string path)
        {
            if (File.Exists(path) || Directory.Exists(path))
            {
                throw new RedisRecoveryException("AofDestinationExists", FailureKind.Conflict, $"{path}: already exists; it is never overwritten.") { Target = path };
            }
        }

        private static void Truncate(string path, long length)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
            stream.SetLength(length);
            stream.Flush(flushToDisk: true);
        }

        /// <summary>
        /// Copies the first <paramref name="length"/> bytes under a temporary name, flushed to disk, and renames the
        /// copy to <paramref name="target"/> only once complete: a failure or a killed process never leaves a partial
        /// copy under a name that looks like a backup or a loadable AOF. An existing target is never overwritten.
        /// </summary>
        private static async Task CopyPrefixAsync(string source, string target, long length, CancellationToken cancellationToken)
        {
            var partial = target + ".partial";
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.Asynchronous | FileOptions.SequentialScan))
                using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
                {
                    var left = length;
                    while (left > 0)
                    {
                        var read = await input.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, left), cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                        {
                            throw new RedisRecoveryException("AofChangedWhileRepairing", FailureKind.Conflict, $"{source}: the file became shorter while it was being copied; is a server still writing it?") { Target = source };
                        }
                        await output.WriteAsync(buffer, 0, read, cancellationToken).ConfigureAwait(false);
                        left -= read;
                    }
                    output.Flush(flushToDisk: true);
                }
                File.Move(partial, target);
            }
            catch
            {
                File.Delete(partial);
                throw;
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
