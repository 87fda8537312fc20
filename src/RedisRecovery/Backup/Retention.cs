using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// Grandfather-father-son retention: keep the newest backup of each of the last N hours, days, ISO weeks and
    /// months (UTC, counted back from now, the current period included). Zero turns a rule off.
    /// </summary>
    public sealed class RetentionPolicy
    {
        public RetentionPolicy(int keepHourly, int keepDaily, int keepWeekly, int keepMonthly)
        {
            if (keepHourly < 0 || keepDaily < 0 || keepWeekly < 0 || keepMonthly < 0)
            {
                throw new RedisRecoveryException("InvalidRetentionPolicy", FailureKind.InvalidArgument, "Retention counts cannot be negative.");
            }
            KeepHourly = keepHourly;
            KeepDaily = keepDaily;
            KeepWeekly = keepWeekly;
            KeepMonthly = keepMonthly;
        }

        public int KeepHourly { get; }

        public int KeepDaily { get; }

        public int KeepWeekly { get; }

        public int KeepMonthly { get; }

        public override string ToString() => $"hourly {KeepHourly}, daily {KeepDaily}, weekly {KeepWeekly}, monthly {KeepMonthly}";
    }

    /// <summary>The rules that keep a backup; several can keep the same one.</summary>
    [Flags]
    public enum RetentionRules
    {
        None = 0,

        /// <summary>The newest backup with status Ok of its series is never deleted.</summary>
        NewestValid = 1,
        Hourly = 2,
        Daily = 4,
        Weekly = 8,
        Monthly = 16,

        /// <summary>Not Ok (damaged, unidentified, or possibly still being written): left for a person to inspect.</summary>
        Inspection = 32,
    }

    public enum RetentionAction
    {
        Keep,
        Delete,
    }

    /// <summary>What retention does with one backup, and why.</summary>
    public sealed class RetentionDecision
    {
        public RetentionDecision(RdbBackup backup, RetentionAction action, RetentionRules keptBy, string reason)
        {
            Backup = backup;
            Action = action;
            KeptBy = keptBy;
            Reason = reason;
        }

        public RdbBackup Backup { get; }

        public RetentionAction Action { get; }

        public RetentionRules KeptBy { get; }

        public string Reason { get; }
    }

    /// <summary>A decision for every backup considered; computing it deletes nothing.</summary>
    public sealed class RetentionPlan
    {
        internal RetentionPlan(RetentionPolicy policy, DateTime nowUtc, IReadOnlyList<RetentionDecision> decisions)
        {
            Policy = policy;
            NowUtc = nowUtc;
            Decisions = decisions;
        }

        public RetentionPolicy Policy { get; }

        public DateTime NowUtc { get; }

        /// <summary>Newest first.</summary>
        public IReadOnlyList<RetentionDecision> Decisions { get; }

        public IEnumerable<RetentionDecision> Deletions => Decisions.Where(decision => decision.Action == RetentionAction.Delete);
    }

    public static class RetentionPlanner
    {
        private static readonly RetentionPeriod[] Periods =
        {
            new RetentionPeriod(RetentionRules.Hourly, policy => policy.KeepHourly, time => time.Ticks / TimeSpan.TicksPerHour,
                time => "hour " + time.ToString("yyyy-MM-dd HH':00Z'", CultureInfo.InvariantCulture)),
            new RetentionPeriod(RetentionRules.Daily, policy => policy.KeepDaily, time => time.Ticks / TimeSpan.TicksPerDay,
                time => "day " + time.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            // DateTime's day 0 (0001-01-01) is a Monday, so whole weeks counted from it are ISO weeks.
            new RetentionPeriod(RetentionRules.Weekly, policy => policy.KeepWeekly, time => time.Ticks / TimeSpan.TicksPerDay / 7,
                time => "week " + IsoWeekLabel(time)),
            new RetentionPeriod(RetentionRules.Monthly, policy => policy.KeepMonthly, time => time.Year * 12L + time.Month - 1,
                time => "month " + time.ToString("yyyy-MM", CultureInfo.InvariantCulture)),
        };

        /// <summary>
        /// Decides, series by series, which backups the policy keeps at <paramref name="nowUtc"/> (the injected clock).
        /// Only backups with status Ok can be kept by a period rule; a sidecar without file older than the newest
        /// valid backup is deleted; every other backup that is not Ok is kept for inspection.
        /// </summary>
        public static RetentionPlan Plan(IEnumerable<RdbBackup> backups, RetentionPolicy policy, DateTime nowUtc)
        {
            var now = nowUtc.ToUniversalTime();
            var decisions = backups
                .GroupBy(backup => backup.Name, StringComparer.Ordinal)
                .SelectMany(series => PlanSeries(series.OrderByDescending(backup => backup.CreatedUtc).ToList(), policy, now))
                .OrderByDescending(decision => decision.Backup.CreatedUtc)
                .ThenBy(decision => decision.Backup.Name, StringComparer.Ordinal)
                .ToList();
            return new RetentionPlan(policy, now, decisions);
        }

        private static IEnumerable<RetentionDecision> PlanSeries(IReadOnlyList<RdbBackup> newestFirst, RetentionPolicy policy, DateTime now)
        {
            var valid = newestFirst.Where(backup => backup.Status == BackupStatus.Ok).ToList();
            var keptBy = new Dictionary<RdbBackup, RetentionRules>();
            var reasons = new Dictionary<RdbBackup, List<string>>();
            void Keep(RdbBackup backup, RetentionRules rule, string reason)
            {
                keptBy[backup] = (keptBy.TryGetValue(backup, out var rules) ? rules : RetentionRules.None) | rule;
                if (!reasons.TryGetValue(backup, out var list))
                {
                    reasons[backup] = list = new List<string>();
                }
                list.Add(reason);
            }

            var newestValid = valid.FirstOrDefault();
            if (newestValid != null)
            {
                Keep(newestValid, RetentionRules.NewestValid, "newest valid backup of " + newestValid.Name);
            }
            foreach (var period in Periods)
            {
                var keep = period.Keep(policy);
                if (keep == 0)
                {
                    continue;
                }
                var current = period.Index(now);
                // valid is newest first, so the first of each group is the newest backup of that period.
                foreach (var periodBackups in valid.Where(backup => current - period.Index(backup.CreatedUtc) < keep).GroupBy(backup => period.Index(backup.CreatedUtc)))
                {
                    var newest = periodBackups.First();
                    Keep(newest, period.Rule, "newest of " + period.Label(newest.CreatedUtc));
                }
            }

            foreach (var backup in newestFirst)
            {
                if (keptBy.TryGetValue(backup, out var rules))
                {
                    yield return new RetentionDecision(backup, RetentionAction.Keep, rules, string.Join("; ", reasons[backup]));
                }
                else if (backup.Status == BackupStatus.Ok)
                {
                    yield return new RetentionDecision(backup, RetentionAction.Delete, RetentionRules.None,
                        $"not the newest valid backup of any period the policy keeps ({policy})");
                }
                else if (backup.Status == BackupStatus.MissingFile && newestValid != null && backup.CreatedUtc < newestValid.CreatedUtc)
                {
                    yield return new RetentionDecision(backup, RetentionAction.Delete, RetentionRules.None,
                        "a sidecar whose backup file is gone, older than the newest valid backup");
                }
                else if (backup.Status == BackupStatus.MissingFile)
                {
                    yield return new RetentionDecision(backup, RetentionAction.Keep, RetentionRules.Inspection,
                        "a sidecar without its file, newer than any valid backup: a backup may still be being written");
                }
                else
                {
                    yield return new RetentionDecision(backup, RetentionAction.Keep, RetentionRules.Inspection,
                        $"status {backup.Status}: retention never deletes a damaged or unidentified backup; inspect it and remove it explicitly");
                }
            }
        }

        private static string IsoWeekLabel(DateTime time)
        {
            // An ISO week belongs to the year of its Thursday, and week 1 is the one holding that year's first Thursday.
            var thursday = time.Date.AddDays(3 - ((int)time.DayOfWeek + 6) % 7);
            return thursday.Year.ToString(CultureInfo.InvariantCulture) + "-W" + ((thursday.DayOfYear - 1) / 7 + 1).ToString("00", CultureInfo.InvariantCulture);
        }

        private sealed class RetentionPeriod
        {
            public RetentionPeriod(RetentionRules rule, Func<RetentionPolicy, int> keep, Func<DateTime, long> index, Func<DateTime, string> label)
            {
                Rule = rule;
                Keep = keep;
                Index = index;
                Label = label;
            }

            public RetentionRules Rule { get; }

            public Func<RetentionPolicy, int> Keep { get; }

            /// <summary>Which period a time falls in, as a number that grows by one per period.</summary>
            public Func<DateTime, long> Index { get; }

            public Func<DateTime, string> Label { get; }
        }
    }
}
