using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using static RedisRecovery.Tests.Backup.BackupTestDirectory;

namespace RedisRecovery.Tests.Backup
{
    public sealed class RetentionTests
    {
        private const string Series = "cache-6379";

        /// <summary>(case, now, hourly, daily, weekly, monthly, backups, the ones kept); times are UTC.</summary>
        public static TheoryData<string, string, int, int, int, int, string[], string[]> Policies => new()
        {
            {
                "hourly: newest of each of the last 3 hours, the current one included",
                "2026-11-22T02:30", 3, 0, 0, 0,
                new[] { "2026-11-22T02:10", "2026-11-22T02:00", "2026-11-22T01:59", "2026-11-22T01:30", "2026-11-22T00:00", "2026-11-21T23:59" },
                new[] { "2026-11-22T02:10", "2026-11-22T01:59", "2026-11-22T00:00" }
            },
            {
                "daily: the day changes at midnight UTC",
                "2026-11-22T00:05", 0, 2, 0, 0,
                new[] { "2026-11-22T00:01", "2026-11-21T23:59", "2026-11-21T00:00", "2026-11-20T23:59" },
                new[] { "2026-11-22T00:01", "2026-11-21T23:59" }
            },
            {
                "weekly: ISO weeks start on Monday 00:00 UTC",
                "2026-11-23T01:00", 0, 0, 2, 0,
                new[] { "2026-11-23T00:30", "2026-11-22T23:30", "2026-11-16T00:00", "2026-11-15T23:00" },
                new[] { "2026-11-23T00:30", "2026-11-22T23:30" }
            },
            {
                "weekly: an ISO week spans the new year (2026-W53 runs to Sunday 2027-01-03)",
                "2027-01-03T12:00", 0, 0, 1, 0,
                new[] { "2027-01-03T10:00", "2026-12-31T12:00", "2026-12-28T00:00", "2026-12-27T23:00" },
                new[] { "2027-01-03T10:00" }
            },
            {
                "monthly: newest of each of the last 3 calendar months",
                "2026-11-22T02:30", 0, 0, 0, 3,
                new[] { "2026-11-01T00:00", "2026-10-31T23:59", "2026-10-15T00:00", "2026-09-30T23:00", "2026-09-01T00:00", "2026-08-31T23:59" },
                new[] { "2026-11-01T00:00", "2026-10-31T23:59", "2026-09-30T23:00" }
            },
            {
                "grandfather-father-son: hourly and daily together",
                "2026-11-22T02:30", 2, 2, 0, 0,
                new[] { "2026-11-22T02:00", "2026-11-22T01:00", "2026-11-22T00:00", "2026-11-21T12:00", "2026-11-21T06:00", "2026-11-20T12:00" },
                new[] { "2026-11-22T02:00", "2026-11-22T01:00", "2026-11-21T12:00" }
            },
            {
                "never delete the newest valid backup, even when every rule has aged it out",
                "2026-11-22T02:30", 1, 1, 0, 0,
                new[] { "2026-11-10T00:00", "2026-11-09T00:00" },
                new[] { "2026-11-10T00:00" }
            },
            {
                "every count zero keeps only the newest",
                "2026-11-22T02:30", 0, 0, 0, 0,
                new[] { "2026-11-22T02:00", "2026-11-22T01:00" },
                new[] { "2026-11-22T02:00" }
            },
        };

        [Theory]
        [MemberData(nameof(Policies))]
        public async Task Plan_KeepsTheNewestOfEachPeriod_AndApplyingItLeavesExactlyThose(
            string description, string now, int hourly, int daily, int weekly, int monthly, string[] backups, string[] kept)
        {
            Assert.NotEmpty(description);
            using var directory = new BackupTestDirectory();
            foreach (var time in backups)
            {
                directory.AddBackup(Series, Utc(time));
            }
            var before = directory.FileNames();
            var catalog = directory.Catalog;

            var plan = RetentionPlanner.Plan(await catalog.ListAsync(null, CancellationToken.None), new RetentionPolicy(hourly, daily, weekly, monthly), Utc(now));

            Assert.Equal(before, directory.FileNames());
            Assert.Equal(backups.Length, plan.Decisions.Count);
            Assert.Equal(kept.Select(Utc), plan.Decisions.Where(d => d.Action == RetentionAction.Keep).Select(d => d.Backup.CreatedUtc));
            Assert.All(plan.Decisions, decision => Assert.False(string.IsNullOrEmpty(decision.Reason)));
            Assert.All(plan.Decisions, decision => Assert.Equal(decision.Action == RetentionAction.Keep, decision.KeptBy != RetentionRules.None));

            foreach (var deletion in plan.Deletions)
            {
                await catalog.RemoveAsync(deletion.Backup.FileName, CancellationToken.None);
            }
            var remaining = await catalog.ListAsync(null, CancellationToken.None);
            Assert.Equal(kept.Select(Utc), remaining.Select(backup => backup.CreatedUtc));
            Assert.Equal(kept.Length * 2, directory.FileNames().Count);
        }

        [Fact]
        public async Task Plan_SaysWhichRulesKeptEachBackup()
        {
            using var directory = new BackupTestDirectory();
            foreach (var time in new[] { "2026-11-22T02:00", "2026-11-22T01:00", "2026-11-21T12:00", "2026-11-21T06:00", "2026-12-28T00:00" })
            {
                directory.AddBackup(Series, Utc(time));
            }

            var plan = RetentionPlanner.Plan(await directory.Catalog.ListAsync(null, CancellationToken.None), new RetentionPolicy(2, 2, 0, 0), Utc("2026-11-22T02:30"));
            var byTime = plan.Decisions.ToDictionary(decision => decision.Backup.CreatedUtc);

            var future = byTime[Utc("2026-12-28T00:00")];
            Assert.Equal(RetentionRules.NewestValid | RetentionRules.Hourly | RetentionRules.Daily, future.KeptBy);
            var newest = byTime[Utc("2026-11-22T02:00")];
            Assert.Equal(RetentionRules.Hourly | RetentionRules.Daily, newest.KeptBy);
            Assert.Equal("newest of hour 2026-11-22 02:00Z; newest of day 2026-11-22", newest.Reason);
            Assert.Equal(RetentionRules.Hourly, byTime[Utc("2026-11-22T01:00")].KeptBy);
            Assert.Equal(RetentionRules.Daily, byTime[Utc("2026-11-21T12:00")].KeptBy);
            var deleted = byTime[Utc("2026-11-21T06:00")];
            Assert.Equal(RetentionAction.Delete, deleted.Action);
            Assert.Contains("hourly 2, daily 2, weekly 0, monthly 0", deleted.Reason);
        }

        [Fact]
        public async Task Plan_LabelsIsoWeeksByTheYearOfTheirThursday()
        {
            using var directory = new BackupTestDirectory();
            directory.AddBackup(Series, Utc("2027-01-03T10:00"));
            directory.AddBackup(Series, Utc("2027-01-02T10:00"));

            var plan = RetentionPlanner.Plan(await directory.Catalog.ListAsync(null, CancellationToken.None), new RetentionPolicy(0, 0, 1, 0), Utc("2027-01-03T12:00"));

            Assert.Equal("newest valid backup of cache-6379; newest of week 2026-W53", plan.Decisions[0].Reason);
        }

        [Fact]
        public async Task Plan_EvaluatesEachNameOnItsOwn()
        {
            using var directory = new BackupTestDirectory();
            directory.AddBackup("cache-6379", Utc("2026-11-22T02:10"));
            directory.AddBackup("cache-6379", Utc("2026-11-22T01:00"));
            directory.AddBackup("sessions-6380", Utc("2026-11-20T00:00"));
            directory.AddBackup("sessions-6380", Utc("2026-11-19T00:00"));

            var plan = RetentionPlanner.Plan(await directory.Catalog.ListAsync(null, CancellationToken.None), new RetentionPolicy(1, 0, 0, 0), Utc("2026-11-22T02:30"));

            var kept = plan.Decisions.Where(d => d.Action == RetentionAction.Keep).Select(d => (d.Backup.Name, d.Backup.CreatedUtc)).ToList();
            Assert.Equal(new[] { ("cache-6379", Utc("2026-11-22T02:10")), ("sessions-6380", Utc("2026-11-20T00:00")) }, kept);
            Assert.Equal(RetentionRules.NewestValid, plan.Decisions.Single(d => d.Backup.Name == "sessions-6380" && d.Action == RetentionAction.Keep).KeptBy);
        }

        [Fact]
        public async Task Plan_KeepsBrokenBackupsForInspection_OnlyValidOnesWinPeriods_AndDropsStaleOrphanSidecars()
        {
            using var directory = new BackupTestDirectory();
            var truncated = directory.AddBackup(Series, Utc("2026-11-22T02:20"));
            using (var file = File.OpenWrite(directory.FullPath(truncated)))
            {
                file.SetLength(1);
            }
            var newOrphan = directory.AddBackup(Series, Utc("2026-11-22T02:25"));
            File.Delete(directory.FullPath(newOrphan));
            var noSidecar = directory.AddBackup(Series, Utc("2026-11-22T02:15"));
            File.Delete(directory.FullPath(noSidecar + ".json"));
            var valid = directory.AddBackup(Series, Utc("2026-11-22T02:10"));
            var olderSameHour = directory.AddBackup(Series, Utc("2026-11-22T02:05"));
            var oldOrphan = directory.AddBackup(Series, Utc("2026-11-22T01:00"));
            File.Delete(directory.FullPath(oldOrphan));

            var plan = RetentionPlanner.Plan(await directory.Catalog.ListAsync(null, CancellationToken.None), new RetentionPolicy(24, 0, 0, 0), Utc("2026-11-22T02:30"));
            var byFile = plan.Decisions.ToDictionary(decision => decision.Backup.FileName);

            Assert.Equal(RetentionRules.NewestValid | RetentionRules.Hourly, byFile[valid].KeptBy);
            Assert.Equal(RetentionAction.Delete, byFile[olderSameHour].Action);
            Assert.Equal(RetentionRules.Inspection, byFile[truncated].KeptBy);
            Assert.Contains("SizeMismatch", byFile[truncated].Reason);
            Assert.Equal(RetentionRules.Inspection, byFile[noSidecar].KeptBy);
            Assert.Equal(RetentionRules.Inspection, byFile[newOrphan].KeptBy);
            Assert.Equal(RetentionAction.Delete, byFile[oldOrphan].Action);
            Assert.Contains("sidecar whose backup file is gone", byFile[oldOrphan].Reason);
        }

        [Fact]
        public void Policy_RejectsNegativeCounts()
        {
            var error = Assert.Throws<RedisRecoveryException>(() => new RetentionPolicy(1, -1, 0, 0));
            Assert.Equal("InvalidRetentionPolicy", error.ErrorId);
        }
    }
}
