using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Backup;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;

namespace RedisRecovery.Bench
{
    /// <summary>One verb per engine operation, timed; the scripts in bench/ run them beside the real peers.</summary>
    public static class Program
    {
        private static readonly Dictionary<string, Func<string[], Task<int>>> s_verbs = new()
        {
            ["rdb-check"] = RdbCheckAsync,
            ["backup-replication"] = BackupReplicationAsync,
        };

        public static async Task<int> Main(string[] args)
        {
            if (args.Length == 0 || !s_verbs.TryGetValue(args[0], out var verb))
            {
                Console.Error.WriteLine("usage: RedisRecovery.Bench <verb> [arguments]; verbs: " + string.Join(", ", s_verbs.Keys));
                return 2;
            }
            return await verb(args.Skip(1).ToArray());
        }

        /// <summary>rdb-check FILE...: checks each file as Test-RdbFile does and prints the facts and the time taken.</summary>
        private static async Task<int> RdbCheckAsync(string[] files)
        {
            var status = 0;
            foreach (var file in files)
            {
                var watch = Stopwatch.StartNew();
                var check = await RdbFileChecker.CheckFileAsync(file);
                watch.Stop();
                Console.WriteLine($"{file}: valid={check.IsValid} version={check.RdbVersion} keys={check.Keys} expires={check.Expires} " +
                    $"already_expired={check.AlreadyExpired} checksum={check.ChecksumStatus} seconds={watch.Elapsed.TotalSeconds:F3}");
                Console.WriteLine("  types: " + string.Join(" ", check.KeysPerType.Select(p => $"{p.Key}={p.Value}")) +
                    " | encodings: " + string.Join(" ", check.KeysPerEncoding.Select(p => $"{p.Key}={p.Value}")));
                if (!check.IsValid)
                {
                    Console.WriteLine($"  error: {check.Error}");
                    status = 1;
                }
            }
            return status;
        }

        /// <summary>
        /// backup-replication ENDPOINT DIRECTORY: one Backup-RdbSnapshot -Method Replication (stream, SHA-256, fsync,
        /// full parse, sidecar, rename) and the time it took.
        /// </summary>
        private static async Task<int> BackupReplicationAsync(string[] args)
        {
            if (args.Length != 2)
            {
                Console.Error.WriteLine("usage: RedisRecovery.Bench backup-replication <endpoint> <directory>");
                return 2;
            }
            var watch = Stopwatch.StartNew();
            var backup = await SnapshotBackup.RunAsync(new SnapshotRequest(new RedisConnectionOptions(RedisEndpoint.Parse(args[0])), args[1])
            {
                Method = SnapshotMethod.Replication,
            });
            watch.Stop();
            Console.WriteLine($"{backup.Path}: bytes={backup.SizeBytes} keys={backup.KeyCount} sha256={backup.Sha256} seconds={watch.Elapsed.TotalSeconds:F3} " +
                $"MiB/s={backup.SizeBytes / 1048576.0 / watch.Elapsed.TotalSeconds:F1}");
            return 0;
        }
    }
}
