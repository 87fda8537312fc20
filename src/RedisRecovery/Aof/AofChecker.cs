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
                    ManifestPath = invalid.Target as string,
                    ErrorFile = System.IO.Path.GetFileName(invalid.Target as string),
                    Error = invalid.Message,
                };
            }
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            var pending = new List<string>();
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
                    pending.Add(command.Name);
                    if (command.Name == "EXEC")
                    {
                        foreach (var name in pending)
                        {
                            Count(counts, name);
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

        private static void Count(Dictionary<string, long> counts, string name)
        {
            counts.TryGetValue(name, out var count);
            counts[name] = count + 1;
        }
    }
}
