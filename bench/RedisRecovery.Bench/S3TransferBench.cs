using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage.S3;

namespace RedisRecovery.Bench
{
    /// <summary>
    /// s3-upload &lt;file&gt; s3://bucket/prefix/name and s3-download s3://bucket/prefix/name &lt;file&gt;, with
    /// --endpoint URL (path-style), --part-size-mib N, --parallelism N. Credentials and region come from the SDK's
    /// default chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION). Prints one line of figures.
    /// </summary>
    internal static class S3TransferBench
    {
        public static async Task<int> UploadAsync(string[] args)
        {
            var (positional, options) = Parse(args);
            var (store, name) = Open(positional[1], options);
            using (store)
            {
                using var file = new FileStream(positional[0], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
                var clock = Stopwatch.StartNew();
                var result = await store.UploadAsync(name, file, null, CancellationToken.None);
                Report("upload", result.Object.Size, clock.Elapsed,
                    $"{result.PartCount} parts, server checksum verified: {result.ServerChecksumVerified}, sha256 {result.Sha256}");
            }
            return 0;
        }

        public static async Task<int> DownloadAsync(string[] args)
        {
            var (positional, options) = Parse(args);
            var (store, name) = Open(positional[0], options);
            using (store)
            {
                using var file = new FileStream(positional[1], FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
                var clock = Stopwatch.StartNew();
                var result = await store.DownloadAsync(name, file, null, null, CancellationToken.None);
                Report("download", result.Size, clock.Elapsed, $"verified against {result.VerifiedAgainst}, sha256 {result.Sha256 ?? "not computed"}");
            }
            return 0;
        }

        private static (S3BackupStore Store, string Name) Open(string uri, Dictionary<string, string> options)
        {
            var slash = uri.LastIndexOf('/');
            var storeOptions = new S3StoreOptions
            {
                PartSize = long.Parse(options.GetValueOrDefault("part-size-mib", "16"), CultureInfo.InvariantCulture) * 1024 * 1024,
                Parallelism = int.Parse(options.GetValueOrDefault("parallelism", "4"), CultureInfo.InvariantCulture),
                Region = Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION"),
            };
            if (options.TryGetValue("endpoint", out var endpoint))
            {
                storeOptions.EndpointUrl = new Uri(endpoint);
                storeOptions.ForcePathStyle = true;
            }
            return (new S3BackupStore(S3Location.Parse(uri.Substring(0, slash)), storeOptions), uri.Substring(slash + 1));
        }

        private static void Report(string what, long bytes, TimeSpan elapsed, string detail)
        {
            var mib = bytes / 1048576.0;
            var peak = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "ours {0}: {1:F0} MiB in {2:F2} s = {3:F0} MiB/s, peak working set {4:F0} MiB ({5})", what, mib, elapsed.TotalSeconds,
                mib / elapsed.TotalSeconds, peak, detail));
        }

        private static (List<string> Positional, Dictionary<string, string> Options) Parse(string[] args)
        {
            var positional = new List<string>();
            var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < args.Length; i++)
            {
                if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
                {
                    options[args[i].Substring(2)] = args[++i];
                }
                else
                {
                    positional.Add(args[i]);
                }
            }
            if (positional.Count != 2)
            {
                throw new RedisRecoveryException("BenchUsage", FailureKind.InvalidArgument,
                    "expected two arguments: a file and an s3://bucket/prefix/name (upload) or the reverse (download)");
            }
            return (positional, options);
        }
    }
}
