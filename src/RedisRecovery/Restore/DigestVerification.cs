using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;

namespace RedisRecovery.Restore
{
    /// <summary>
    /// Proves a restore arrived whole: the target's DEBUG DIGEST against the digest of what the source holds, computed
    /// from the file while the server computes its own (the server is blocked by DEBUG DIGEST anyway).
    /// </summary>
    internal static class DigestVerification
    {
        /// <summary>
        /// Takes both digests, records them on <paramref name="result"/>, and returns whether they prove the restore
        /// (null: not compared) with the sentence that says so. <paramref name="databaseOf"/> chooses the restored keys of
        /// an RDB source and the database each landed in; null for an AOF source, whose digest is not computed.
        /// </summary>
        public static async Task<(bool? Same, string Detail)> CompareAsync(RestoreOptions options, RestoreTarget target, RestoreResult result,
            Func<RdbEntry, int?>? databaseOf, DateTimeOffset now, CancellationToken cancellationToken)
        {
            var sourceDigest = databaseOf is null || options.ExpectedDigest != null
                ? Task.FromResult<(RdbDigestResult?, string?)>((null, null))
                : Task.Run(() => SourceDigestAsync(options, databaseOf, now, cancellationToken), cancellationToken);
            var digesting = Stopwatch.StartNew();
            result.TargetDigest = await target.DigestAsync(cancellationToken).ConfigureAwait(false);
            result.DigestDuration = digesting.Elapsed;
            var (source, failure) = await sourceDigest.ConfigureAwait(false);
            result.SourceDigest = source?.Digest;
            result.SourceDigestDuration = source?.Duration ?? TimeSpan.Zero;

            var targetDigest = result.TargetDigest;
            if (targetDigest is null)
            {
                return (null, "DEBUG DIGEST not available on the target");
            }
            if (options.ExpectedDigest is { } expected)
            {
                var same = string.Equals(expected, targetDigest, StringComparison.OrdinalIgnoreCase);
                return (same, same ? "digest matches the expected one" : $"digest differs: expected {expected}, target {targetDigest}");
            }
            if (databaseOf is null)
            {
                return (null, $"digest {targetDigest} (not compared: an AOF source's digest is only known by replaying it)");
            }
            if (failure != null)
            {
                return (null, $"digest {targetDigest} (not compared: {failure})");
            }
            if (source!.Digest is null)
            {
                return (null, $"digest {targetDigest} (not compared: the source holds {source.UnknownReason})");
            }
            if (source.HasFractionalScores && target.Version >= new Version(7, 2))
            {
                return (null, $"digest {targetDigest} (not compared: Redis {target.ServerVersion} writes sorted set scores into its digest " +
                    "differently from 7.0, whose digest this is, and the source holds scores that are not small integers)");
            }
            return string.Equals(source.Digest, targetDigest, StringComparison.OrdinalIgnoreCase)
                ? (true, $"digest matches ({source.Keys} keys)")
                : (false, $"digest differs: source {source.Digest}, target {targetDigest}");
        }

        private static async Task<(RdbDigestResult?, string?)> SourceDigestAsync(RestoreOptions options, Func<RdbEntry, int?> databaseOf, DateTimeOffset now,
            CancellationToken cancellationToken)
        {
            try
            {
                using var reader = RedisRestorer.OpenRdb(options.SourcePath, options.SourceName, options.LargeValueThreshold);
                return (await RdbDigest.ComputeAsync(reader, databaseOf, now.ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false), null);
            }
            catch (RedisRecoveryException exception)
            {
                return (null, "the source digest failed: " + exception.Message);
            }
        }
    }
}
