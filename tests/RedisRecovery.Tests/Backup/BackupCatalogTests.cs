using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using RedisRecovery.Storage;
using static RedisRecovery.Tests.Backup.BackupTestDirectory;

namespace RedisRecovery.Tests.Backup
{
    public sealed class BackupCatalogTests
    {
        [Fact]
        public async Task List_ReadsSidecars_NewestFirst_AndIgnoresOtherFiles()
        {
            using var directory = new BackupTestDirectory();
            var older = directory.AddBackup("cache-6379", Utc("2026-11-21T02:00"));
            var newer = directory.AddBackup("cache-6379", Utc("2026-11-22T02:00"));
            var other = directory.AddBackup("sessions-6380", Utc("2026-11-21T12:00"));
            File.WriteAllText(directory.FullPath("dump.rdb"), "not a backup");
            File.WriteAllText(directory.FullPath("notes.txt"), "hello");
            File.WriteAllText(directory.FullPath(".cache-6379_20261122T030000Z.rdb.0123.partial"), "in flight");

            var backups = await directory.Catalog.ListAsync(null, CancellationToken.None);

            Assert.Equal(new[] { newer, other, older }, backups.Select(backup => backup.FileName));
            var newest = backups[0];
            Assert.Equal(BackupStatus.Ok, newest.Status);
            Assert.Null(newest.StatusDetail);
            Assert.Equal(directory.FullPath(newer), newest.Path);
            Assert.Equal(directory.FullPath(newer) + ".json", newest.SidecarPath);
            Assert.Equal(directory.Path, newest.Store);
            Assert.Equal("cache-6379", newest.Name);
            Assert.Equal("127.0.0.1:6379", newest.Endpoint);
            Assert.Equal(BackupMethod.Replication, newest.Method);
            Assert.Equal(Utc("2026-11-22T02:00"), newest.CreatedUtc);
            Assert.Equal(new FileInfo(newest.Path).Length, newest.SizeBytes);
            Assert.Equal(11, newest.RdbVersion);
            Assert.Equal("7.0.15", newest.RedisVersion);
            Assert.Equal(3, newest.KeyCount);
            Assert.True(newest.PointInTime);
        }

        [Fact]
        public async Task List_ReportsEveryKindOfBrokenBackup_WithAStatusThatSaysSo()
        {
            using var directory = new BackupTestDirectory();
            var fine = directory.AddBackup("cache-6379", Utc("2026-11-22T01:00"));
            var missingFile = directory.AddBackup("cache-6379", Utc("2026-11-22T02:00"));
            File.Delete(directory.FullPath(missingFile));
            var missingSidecar = directory.AddBackup("cache-6379", Utc("2026-11-22T03:00"));
            File.Delete(directory.FullPath(missingSidecar + ".json"));
            var truncated = directory.AddBackup("cache-6379", Utc("2026-11-22T04:00"));
            using (var file = File.OpenWrite(directory.FullPath(truncated)))
            {
                file.SetLength(5);
            }
            var garbled = directory.AddBackup("cache-6379", Utc("2026-11-22T05:00"));
            File.WriteAllText(directory.FullPath(garbled + ".json"), "{ \"schemaVersion\": 1, \"name\": ");
            var misplaced = directory.AddBackup("cache-6379", Utc("2026-11-22T06:00"));
            File.Copy(directory.FullPath(fine + ".json"), directory.FullPath(misplaced + ".json"), overwrite: true);
            var huge = directory.AddBackup("cache-6379", Utc("2026-11-22T07:00"));
            File.WriteAllBytes(directory.FullPath(huge + ".json"), new byte[BackupSidecar.MaxSidecarBytes + 1]);

            var byFile = (await directory.Catalog.ListAsync(null, CancellationToken.None)).ToDictionary(backup => backup.FileName);

            Assert.Equal(BackupStatus.Ok, byFile[fine].Status);
            Assert.Equal(BackupStatus.MissingFile, byFile[missingFile].Status);
            Assert.Equal(directory.FullPath(missingFile), byFile[missingFile].Path);
            Assert.NotNull(byFile[missingFile].Sha256);
            Assert.Equal(BackupStatus.MissingSidecar, byFile[missingSidecar].Status);
            Assert.Equal(Utc("2026-11-22T03:00"), byFile[missingSidecar].CreatedUtc);
            Assert.Equal(new FileInfo(directory.FullPath(missingSidecar)).Length, byFile[missingSidecar].SizeBytes);
            Assert.Null(byFile[missingSidecar].Sha256);
            Assert.Equal(BackupStatus.SizeMismatch, byFile[truncated].Status);
            Assert.Contains("The file is 5 bytes", byFile[truncated].StatusDetail);
            Assert.Equal(BackupStatus.SidecarInvalid, byFile[garbled].Status);
            Assert.Equal("cache-6379", byFile[garbled].Name);
            Assert.Equal(BackupStatus.SidecarInvalid, byFile[misplaced].Status);
            Assert.Contains("not this file", byFile[misplaced].StatusDetail);
            Assert.Equal(BackupStatus.SidecarInvalid, byFile[huge].Status);
            Assert.All(byFile.Values.Where(backup => backup.Status != BackupStatus.Ok), backup => Assert.False(string.IsNullOrEmpty(backup.StatusDetail)));
        }

        [Fact]
        public async Task List_FiltersByName_Since_AndLatestValidPerName()
        {
            using var directory = new BackupTestDirectory();
            directory.AddBackup("cache-6379", Utc("2026-11-20T00:00"));
            var latestValidCache = directory.AddBackup("cache-6379", Utc("2026-11-21T00:00"));
            var brokenNewest = directory.AddBackup("cache-6379", Utc("2026-11-22T00:00"));
            File.Delete(directory.FullPath(brokenNewest + ".json"));
            var latestSessions = directory.AddBackup("sessions-6380", Utc("2026-11-19T00:00"));
            directory.AddBackup("sessions-6380", Utc("2026-11-18T00:00"));
            var catalog = directory.Catalog;

            var sessions = await catalog.ListAsync(new BackupQuery { NameFilter = name => name.StartsWith("sess", StringComparison.Ordinal) }, CancellationToken.None);
            Assert.Equal(2, sessions.Count);
            Assert.All(sessions, backup => Assert.Equal("sessions-6380", backup.Name));

            var since = await catalog.ListAsync(new BackupQuery { SinceUtc = Utc("2026-11-21T00:00") }, CancellationToken.None);
            Assert.Equal(new[] { brokenNewest, latestValidCache }, since.Select(backup => backup.FileName));

            var latest = await catalog.ListAsync(new BackupQuery { LatestOnly = true }, CancellationToken.None);
            Assert.Equal(new[] { latestValidCache, latestSessions }, latest.Select(backup => backup.FileName));

            var latestSince = await catalog.ListAsync(new BackupQuery { LatestOnly = true, SinceUtc = Utc("2026-11-20T12:00") }, CancellationToken.None);
            Assert.Equal(new[] { latestValidCache }, latestSince.Select(backup => backup.FileName));
        }

        [Fact]
        public async Task List_OfAMissingDirectory_IsNotFound()
        {
            var catalog = new BackupCatalog(new LocalDirectoryStore(Path.Combine(Path.GetTempPath(), "rr-absent-" + Guid.NewGuid().ToString("N"))));
            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => catalog.ListAsync(null, CancellationToken.None));
            Assert.Equal("BackupStoreNotFound", error.ErrorId);
            Assert.Equal(FailureKind.NotFound, error.Kind);
        }

        [Fact]
        public async Task Get_DescribesOneBackup_AndIsNullWhenNothingIsThere()
        {
            using var directory = new BackupTestDirectory();
            var fileName = directory.AddBackup("cache-6379", Utc("2026-11-22T02:00"));

            var backup = await directory.Catalog.GetAsync(fileName, CancellationToken.None);

            Assert.NotNull(backup);
            Assert.Equal(BackupStatus.Ok, backup!.Status);
            Assert.Null(await directory.Catalog.GetAsync("cache-6379_20201122T020000Z.rdb", CancellationToken.None));
        }

        [Fact]
        public async Task Remove_DeletesFileAndSidecar_AndRefusesFilesThatAreNotBackups()
        {
            using var directory = new BackupTestDirectory();
            var gone = directory.AddBackup("cache-6379", Utc("2026-11-21T02:00"));
            var kept = directory.AddBackup("cache-6379", Utc("2026-11-22T02:00"));
            File.WriteAllText(directory.FullPath("dump.rdb"), "not a backup");

            await directory.Catalog.RemoveAsync(gone, CancellationToken.None);
            await directory.Catalog.RemoveAsync(gone, CancellationToken.None);
            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => directory.Catalog.RemoveAsync("dump.rdb", CancellationToken.None));

            Assert.Equal("NotABackupFile", error.ErrorId);
            Assert.Equal(new[] { kept, kept + ".json", "dump.rdb" }, directory.FileNames());
        }
    }
}
