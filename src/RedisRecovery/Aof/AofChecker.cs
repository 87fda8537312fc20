using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Aof
{
    /// <summary>Reads a whole AOF and says whether Redis can load it, and if not, where and why (Test-AofFile).</summary>
    public static class AofChecker
    {
        private const int ProgressEveryCommands = 1 << 16;

        public static async Task<AofCheckResult> CheckAsync(string path, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            AofReader reader;
            try
            {
                reader = await AofReader.OpenAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (AofManifestException invalid)
            {
                return new AofCheckResult
                {
                    Path = System.IO.Path.GetFullPath(path),
                    Layout = AofLayout.MultiPart,
                    Status = AofStatus.ManifestInvalid,
                    ManifestPath = invalid.ManifestPath,
                    ErrorFile = System.IO.Path.GetFileName(invalid.ManifestPath),
                    Error = invalid.Problem,
                };
            }
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            var pending = new Dictionary<string, long>(StringComparer.Ordinal);
            var total = reader.Files.Sum(f => f.Length);
            var before = new long[reader.Files.Count];
            for (var i = 1; i < before.Length; i++)
            {
                before[i] = before[i - 1] + reader.Files[i - 1].Length;
            }
            long seen = 0;
            await foreach (var command in reader.ReadCommandsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (command.InTransaction)
                {
                    // Counted only once its EXEC shows the transaction complete, as Redis applies it.
                    Count(pending, command.Name);
                    if (command.Name == "EXEC")
                    {
                        foreach (var transacted in pending)
                        {
                            Count(counts, transacted.Key, transacted.Value);
                        }
                        pending.Clear();
                    }
                }
                else
                {
                    Count(counts, command.Name);
                }
                if (progress != null && ++seen % ProgressEveryCommands == 0)
                {
                    var done = before[command.PartIndex] + command.Offset;
                    progress.Report(new OperationProgress("Checking AOF", $"{command.File}: {seen:N0} commands", done, total));
                }
            }
            var result = reader.Result;
            result.CommandCounts = counts;
            result.Commands = reader.Files.Sum(f => f.Commands);
            return result;
        }

        private static void Count(Dictionary<string, long> counts, string name, long howMany = 1)
        {
            counts.TryGetValue(name, out var count);
            counts[name] = count + howMany;
        }
    }
}
