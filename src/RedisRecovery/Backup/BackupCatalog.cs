using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage;

namespace RedisRecovery.Backup
{
    /// <summary>Which backups a listing returns.</summary>
    public sealed class BackupQuery
    {
        /// <summary>Keeps the series names it accepts (for example a wildcard match); null accepts all.</summary>
        public Func<string, bool>? NameFilter { get; init; }

        /// <summary>Only backups taken at or after this UTC time.</summary>
        public DateTime? SinceUtc { get; init; }

        /// <summary>Only the newest backup of each series whose status is Ok.</summary>
        public bool LatestOnly { get; init; }
    }

    /// <summary>
    /// The backups in a store, read from their sidecars and checked against the files: a file without sidecar, a
    /// sidecar without file, a size that differs or an unreadable sidecar are listed with a status that says so.
    /// </summary>
    public sealed class BackupCatalog
    {
        public BackupCatalog(IBackupStore store)
        {
            Store = store;
        }

        public IBackupStore Store { get; }

        /// <summary>The matching backups, newest first (then by name).</summary>
        public async Task<IReadOnlyList<RdbBackup>> ListAsync(BackupQuery? query, CancellationToken cancellationToken)
        {
            query ??= new BackupQuery();
            var files = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
            var sidecars = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
            await foreach (var stored in Store.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                if (BackupFileName.TryParse(stored.Name, out _, out _))
                {
                    files[stored.Name] = stored;
                }
                else if (BackupFileName.TryParseSidecar(stored.Name, out var backupFileName))
                {
                    sidecars[backupFileName] = stored;
                }
            }

            var backups = new List<RdbBackup>();
            foreach (var fileName in files.Keys.Union(sidecars.Keys))
            {
                BackupFileName.TryParse(fileName, out var name, out var createdUtc);
                if ((query.NameFilter == null || query.NameFilter(name)) && (query.SinceUtc == null || createdUtc >= query.SinceUtc))
                {
                    files.TryGetValue(fileName, out var file);
                    sidecars.TryGetValue(fileName, out var sidecar);
                    backups.Add(await DescribeAsync(fileName, file, sidecar, cancellationToken).ConfigureAwait(false));
                }
            }

            var newestFirst = backups.OrderByDescending(backup => backup.CreatedUtc).ThenBy(backup => backup.Name, StringComparer.Ordinal);
            return query.LatestOnly
                ? newestFirst.Where(backup => backup.Status == BackupStatus.Ok).GroupBy(backup => backup.Name, StringComparer.Ordinal).Select(series => series.First()).ToList()
                : newestFirst.ToList();
        }

        /// <summary>One backup by its file name; null when neither its file nor its sidecar exists.</summary>
        public async Task<RdbBackup?> GetAsync(string fileName, CancellationToken cancellationToken)
        {
            ValidateBackupFileName(fileName);
            var file = await Store.GetAsync(fileName, cancellationToken).ConfigureAwait(false);
            var sidecar = await Store.GetAsync(BackupFileName.SidecarFor(fileName), cancellationToken).ConfigureAwait(false);
            return file == null && sidecar == null ? null : await DescribeAsync(fileName, file, sidecar, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Deletes a backup: the file first, then its sidecar, so an interrupted removal leaves a sidecar without
        /// file (listed as MissingFile, cleaned up by the next retention run), never an undescribed file.
        /// </summary>
        public async Task RemoveAsync(string fileName, CancellationToken cancellationToken)
        {
            ValidateBackupFileName(fileName);
            await Store.DeleteAsync(fileName, cancellationToken).ConfigureAwait(false);
            await Store.DeleteAsync(BackupFileName.SidecarFor(fileName), cancellationToken).ConfigureAwait(false);
        }

        private static void ValidateBackupFileName(string fileName)
        {
            if (!BackupFileName.TryParse(fileName, out _, out _))
            {
                throw new RedisRecoveryException("NotABackupFile", FailureKind.InvalidArgument,
                    $"'{fileName}' is not a backup file name (<name>_<yyyyMMddTHHmmssZ>.rdb); only backups are listed or removed.") { Target = fileName };
            }
        }

        private async Task<RdbBackup> DescribeAsync(string fileName, StoredObject? file, StoredObject? sidecarObject, CancellationToken cancellationToken)
        {
            BackupFileName.TryParse(fileName, out var name, out var createdUtc);
            var location = new BackupLocation(
                Store.Location,
                fileName,
                file?.FullLocation ?? WithoutSuffix(sidecarObject!.FullLocation, BackupFileName.SidecarExtension),
                sidecarObject?.FullLocation ?? file!.FullLocation + BackupFileName.SidecarExtension);
            if (sidecarObject == null)
            {
                return RdbBackup.FromFileName(name, createdUtc, file!.Size, location, BackupStatus.MissingSidecar, "The backup file has no sidecar: its checksum and contents are unknown.");
            }

            BackupSidecar? sidecar;
            string problem;
            try
            {
                var json = await BackupSidecar.ReadBytesAsync(Store, sidecarObject.Name, cancellationToken).ConfigureAwait(false);
                BackupSidecar.TryParse(json, out sidecar, out problem);
            }
            catch (RedisRecoveryException ex) when (ex.Kind == FailureKind.NotFound && file != null)
            {
                // Removed between listing and reading (a concurrent removal or retention run).
                return RdbBackup.FromFileName(name, createdUtc, file.Size, location, BackupStatus.MissingSidecar, "The backup file has no sidecar: its checksum and contents are unknown.");
            }
            catch (RedisRecoveryException ex) when (ex.Kind == FailureKind.CorruptData)
            {
                sidecar = null;
                problem = ex.Message;
            }
            if (sidecar != null && (sidecar.Name != name || TruncateToSecond(sidecar.CreatedUtc) != createdUtc))
            {
                problem = $"it describes a backup of '{sidecar.Name}' taken {sidecar.CreatedUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}, not this file.";
                sidecar = null;
            }
            if (sidecar == null)
            {
                return RdbBackup.FromFileName(name, createdUtc, file?.Size, location, BackupStatus.SidecarInvalid, "Sidecar unreadable: " + problem);
            }
            if (file == null)
            {
                return RdbBackup.FromSidecar(sidecar, location, BackupStatus.MissingFile, "The sidecar exists but the backup file does not.");
            }
            return file.Size != sidecar.SizeBytes
                ? RdbBackup.FromSidecar(sidecar, location, BackupStatus.SizeMismatch, $"The file is {file.Size} bytes but its sidecar recorded {sidecar.SizeBytes}.")
                : RdbBackup.FromSidecar(sidecar, location, BackupStatus.Ok, null);
        }

        private static string WithoutSuffix(string text, string suffix) => text.Substring(0, text.Length - suffix.Length);

        private static DateTime TruncateToSecond(DateTime time) => new DateTime(time.Ticks - time.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }
}
