using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Security.Cryptography;
using System.Threading.Tasks;
using RedisRecovery.Storage;
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
            var (positional, options) = Parse(args, expected: 2);
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
            var (positional, options) = Parse(args, expected: 2);
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

        /// <summary>
        /// s3-copy-read s3://bucket/prefix/name --sha256 HEX [--integrity caller|store]: reads the object as Copy-RedisBackup
        /// does when the source is S3 (the copier hashes every byte against the sidecar's SHA-256), discarding the bytes.
        /// --integrity store also lets the store run its own checks (the composite checksum), as copies did before.
        /// </summary>
        public static async Task<int> CopyReadAsync(string[] args)
        {
            var (positional, options) = Parse(args, expected: 1);
            var (store, name) = Open(positional[0], options);
            if (!options.TryGetValue("sha256", out var expectedSha256))
            {
                throw new RedisRecoveryException("BenchUsage", FailureKind.InvalidArgument, "s3-copy-read needs --sha256 HEX, the SHA-256 a sidecar would hold");
            }
            var integrity = options.GetValueOrDefault("integrity", "caller") == "store" ? ReadIntegrity.StoreChecks : ReadIntegrity.CallerChecks;
            using (store)
            using (var sidecarCheck = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var clock = Stopwatch.StartNew();
                using var source = await store.OpenReadAsync(name, integrity, CancellationToken.None);
                var buffer = new byte[1 << 20];
                long total = 0;
                int read;
                while ((read = await source.ReadAsync(buffer, 0, buffer.Length)) > 0)
                {
                    sidecarCheck.AppendData(buffer, 0, read);
                    total += read;
                }
                var actual = Convert.ToHexString(sidecarCheck.GetHashAndReset()).ToLowerInvariant();
                if (actual != expectedSha256)
                {
                    Console.Error.WriteLine($"SHA-256 {actual} is not the expected {expectedSha256}");
                    return 1;
                }
                Report("copy-read", total, clock.Elapsed, $"store checks: {integrity}, sha256 matched");
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

        private static (List<string> Positional, Dictionary<string, string> Options) Parse(string[] args, int expected)
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
            if (positional.Count != expected)
            {
                throw new RedisRecoveryException("BenchUsage", FailureKind.InvalidArgument,
                    "expected a file and an s3://bucket/prefix/name (upload), the reverse (download), or the s3:// name alone (copy-read)");
            }
            return (positional, options);
        }
    }
}
