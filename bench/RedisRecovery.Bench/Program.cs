using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Aof;
using RedisRecovery.Backup;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;
using RedisRecovery.Restore;

namespace RedisRecovery.Bench
{
    /// <summary>One verb per engine operation, timed; the scripts in bench/ run them beside the real peers.</summary>
    public static class Program
    {
        private static readonly Dictionary<string, Func<string[], Task<int>>> s_verbs = new()
        {
            ["rdb-check"] = RdbCheckAsync,
            ["rdb-read"] = RdbReadAsync,
            ["rdb-digest"] = RdbDigestAsync,
            ["restore"] = RestoreAsync,
            ["restore-protocol"] = RestoreProtocolAsync,
            ["restore-capture"] = RestoreCaptureAsync,
            ["aof-check"] = AofCheckAsync,
            ["aof-plan"] = AofPlanAsync,
            ["s3-upload"] = S3TransferBench.UploadAsync,
            ["s3-download"] = S3TransferBench.DownloadAsync,
            ["s3-copy-read"] = S3TransferBench.CopyReadAsync,
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

        /// <summary>rdb-read RDB: reads every entry with its value as a restore does, and sends nothing: the reading side's share of a restore.</summary>
        private static async Task<int> RdbReadAsync(string[] args)
        {
            var watch = Stopwatch.StartNew();
            var allocatedBefore = GC.GetTotalAllocatedBytes();
            long entries = 0;
            using (var reader = new RdbReader(System.IO.File.OpenRead(args[0]), new RdbReaderOptions { SourceName = args[0] }))
            {
                while (await reader.ReadEntryAsync() is RdbEntry)
                {
                    entries++;
                }
            }
            Console.WriteLine($"rdb-read: entries={entries} seconds={watch.Elapsed.TotalSeconds:F2} allocated_bytes_per_entry={(GC.GetTotalAllocatedBytes() - allocatedBefore) / Math.Max(1, entries)}");
            return 0;
        }

        /// <summary>rdb-digest RDB: computes the DEBUG DIGEST of Redis 7.0 from the file and prints it with the time and peak memory.</summary>
        private static async Task<int> RdbDigestAsync(string[] args)
        {
            var result = await RdbDigest.ComputeAsync(args[0]);
            using var self = Process.GetCurrentProcess();
            Console.WriteLine($"rdb-digest: digest={result.Digest ?? "unknown: " + result.UnknownReason} keys={result.Keys} seconds={result.Duration.TotalSeconds:F2} " +
                $"peak_working_set_mib={self.PeakWorkingSet64 / (1024 * 1024)} allocated_mib={GC.GetTotalAllocatedBytes() / (1024 * 1024)}");
            return result.Digest is null ? 1 : 0;
        }

        /// <summary>restore RDB ENDPOINT: restores the file online into an empty server and prints keys, time, rate and peak memory.</summary>
        private static async Task<int> RestoreAsync(string[] args)
        {
            var options = new RestoreOptions(args[0], new RedisConnectionOptions(RedisEndpoint.Parse(args[1])) { CommandTimeout = TimeSpan.FromMinutes(5) })
            {
                MaxInFlightBytes = args.Length > 2 ? long.Parse(args[2]) * 1024 * 1024 : null,
            };
            var watch = Stopwatch.StartNew();
            var result = await RedisRestorer.RestoreAsync(options);
            watch.Stop();
            using var self = Process.GetCurrentProcess();
            Console.WriteLine($"restore: keys={result.KeysRestored} via_commands={result.KeysViaCommandsCount} failed={result.KeysFailedCount} bytes={result.Bytes} " +
                $"seconds={watch.Elapsed.TotalSeconds:F2} of_which_verification={result.VerificationDuration.TotalSeconds:F2} (digest {result.DigestDuration.TotalSeconds:F2}, source digest alongside {result.SourceDigestDuration.TotalSeconds:F2}) " +
                $"keys_per_second_without_verification={result.KeysRestored / (watch.Elapsed - result.VerificationDuration).TotalSeconds:F0} " +
                $"peak_working_set_mib={self.PeakWorkingSet64 / (1024 * 1024)} allocated_mib={GC.GetTotalAllocatedBytes() / (1024 * 1024)} " +
                $"gc_heap_after_last_gc_mib={GC.GetGCMemoryInfo().HeapSizeBytes / (1024 * 1024)} gc_committed_mib={GC.GetGCMemoryInfo().TotalCommittedBytes / (1024 * 1024)} gen0_gcs={GC.CollectionCount(0)} gen2_gcs={GC.CollectionCount(2)} " +
                $"verified={result.Verified} ({result.VerificationDetail})");
            return result.Verified == true ? 0 : 1;
        }

        /// <summary>restore-protocol RDB OUT: writes the RESTORE commands of an RDB as raw RESP, for redis-cli --pipe.</summary>
        private static async Task<int> RestoreProtocolAsync(string[] args)
        {
            using var reader = new RdbReader(System.IO.File.OpenRead(args[0]), new RdbReaderOptions { SourceName = args[0] });
            using var output = new System.IO.BufferedStream(System.IO.File.Create(args[1]), 1 << 20);
            var database = -1;
            while (await reader.ReadEntryAsync() is RdbEntry entry)
            {
                if (entry.Database != database)
                {
                    database = entry.Database;
                    WriteCommand(output, System.Text.Encoding.ASCII.GetBytes("SELECT"), System.Text.Encoding.ASCII.GetBytes(database.ToString()));
                }
                var ttl = System.Text.Encoding.ASCII.GetBytes((entry.ExpiresAtMs ?? 0).ToString());
                WriteCommand(output, System.Text.Encoding.ASCII.GetBytes("RESTORE"), entry.Key, ttl, RdbDumpPayload.Create(entry), System.Text.Encoding.ASCII.GetBytes("ABSTTL"));
            }
            return 0;
        }

        /// <summary>
        /// restore-capture RDB ENDPOINT OUT: restores the file into ENDPOINT through a loopback relay that records every
        /// byte the engine sends (handshake, SELECT, MSET batches, RESTORE) into OUT, so that redis-cli --pipe can replay
        /// exactly our command stream. Verification is off: the stream holds the restore's commands only.
        /// </summary>
        private static async Task<int> RestoreCaptureAsync(string[] args)
        {
            var upstream = RedisEndpoint.Parse(args[1]);
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            var relayPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            var relay = RelayOnceAsync(listener, upstream, args[2]);
            var options = new RestoreOptions(args[0], new RedisConnectionOptions(RedisEndpoint.Parse($"127.0.0.1:{relayPort}")) { CommandTimeout = TimeSpan.FromMinutes(5) })
            {
                Verify = false,
            };
            var result = await RedisRestorer.RestoreAsync(options);
            await relay;
            listener.Stop();
            Console.WriteLine($"restore-capture: keys={result.KeysRestored} failed={result.KeysFailedCount} bytes_captured={new System.IO.FileInfo(args[2]).Length}");
            return result.KeysFailedCount == 0 ? 0 : 1;
        }

        private static async Task RelayOnceAsync(System.Net.Sockets.TcpListener listener, RedisEndpoint upstream, string capturePath)
        {
            using var client = await listener.AcceptTcpClientAsync();
            using var server = new System.Net.Sockets.TcpClient();
            await server.ConnectAsync(upstream.Host ?? throw new ArgumentException("restore-capture relays to a TCP endpoint."), upstream.Port);
            await using var capture = new System.IO.FileStream(capturePath, System.IO.FileMode.Create, System.IO.FileAccess.Write, System.IO.FileShare.Read, 1 << 20, useAsync: true);
            var toServer = CopyAsync(client.GetStream(), server.GetStream(), capture, server);
            var toClient = CopyAsync(server.GetStream(), client.GetStream(), null, client);
            await Task.WhenAll(toServer, toClient);
        }

        /// <summary>Copies until the source closes, then closes the destination's sending side so the other direction ends too.</summary>
        private static async Task CopyAsync(System.IO.Stream source, System.IO.Stream destination, System.IO.Stream? capture, System.Net.Sockets.TcpClient destinationClient)
        {
            var buffer = new byte[1 << 20];
            int read;
            try
            {
                while ((read = await source.ReadAsync(buffer)) > 0)
                {
                    if (capture != null)
                    {
                        await capture.WriteAsync(buffer.AsMemory(0, read));
                    }
                    await destination.WriteAsync(buffer.AsMemory(0, read));
                }
            }
            catch (System.IO.IOException)
            {
                // The engine closed the connection abruptly when it finished: what was sent is captured.
            }
            try
            {
                destinationClient.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            }
            catch (System.Net.Sockets.SocketException)
            {
                // The destination is gone already: nothing is left to tell it.
            }
        }

        private static void WriteCommand(System.IO.Stream output, params byte[][] parts)
        {
            var header = System.Text.Encoding.ASCII.GetBytes($"*{parts.Length}\r\n");
            output.Write(header, 0, header.Length);
            foreach (var part in parts)
            {
                var length = System.Text.Encoding.ASCII.GetBytes($"${part.Length}\r\n");
                output.Write(length, 0, length.Length);
                output.Write(part, 0, part.Length);
                output.WriteByte((byte)'\r');
                output.WriteByte((byte)'\n');
            }
        }
        /// <summary>aof-check PATH...: checks each AOF (file, multi-part directory or manifest) as Test-AofFile does.</summary>
        private static async Task<int> AofCheckAsync(string[] paths)
        {
            var status = 0;
            foreach (var path in paths)
            {
                var watch = Stopwatch.StartNew();
                var check = await AofChecker.CheckAsync(path);
                watch.Stop();
                var bytes = check.Files.Sum(f => f.Length);
                Console.WriteLine($"{path}: status={check.Status} layout={check.Layout} commands={check.Commands} bytes={bytes} " +
                    $"valid_up_to={check.ValidUpToFile}@{check.ValidUpToOffset} seconds={watch.Elapsed.TotalSeconds:F3} " +
                    $"MiB/s={bytes / 1048576.0 / Math.Max(watch.Elapsed.TotalSeconds, 1e-9):F0}");
                Console.WriteLine("  commands: " + string.Join(" ", check.CommandCounts.OrderByDescending(p => p.Value).Take(10).Select(p => $"{p.Key}={p.Value}")));
                if (check.Status != AofStatus.Valid)
                {
                    Console.WriteLine($"  error: {check.ErrorFile} @ {check.ErrorOffset}: {check.Error}");
                    status = 1;
                }
            }
            return status;
        }

        /// <summary>aof-plan PATH [FLUSHALL|FLUSHDB|unix-seconds]: the plan Repair-AofFile would carry out (reads only).</summary>
        private static async Task<int> AofPlanAsync(string[] arguments)
        {
            var target = arguments.Length > 1 ? arguments[1] : null;
            var request = target == null ? new AofRepairRequest()
                : long.TryParse(target, out var seconds) ? new AofRepairRequest { ToTimestamp = DateTimeOffset.FromUnixTimeSeconds(seconds) }
                : new AofRepairRequest { BeforeCommand = target };
            var watch = Stopwatch.StartNew();
            var plan = await AofRepairer.PlanAsync(arguments[0], request);
            Console.WriteLine($"{plan.Describe()}; requires_force={plan.RequiresForce} seconds={watch.Elapsed.TotalSeconds:F3}");
            return 0;
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