using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Resp;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// A redis-server started only to load one RDB: its own temporary directory holding a copy of the file, a free
    /// port on 127.0.0.1, nothing saved, killed and removed on dispose.
    /// </summary>
    internal sealed class ThrowawayRedisServer : IAsyncDisposable
    {
        private const int StartAttempts = 3;
        private readonly Process _process;
        private readonly string _directory;

        private ThrowawayRedisServer(Process process, string directory, int port)
        {
            _process = process;
            _directory = directory;
            Endpoint = RedisEndpoint.Tcp("127.0.0.1", port);
        }

        public RedisEndpoint Endpoint { get; }

        /// <summary>Starts <paramref name="serverPath"/> on a copy of <paramref name="rdbPath"/> and waits until it has loaded it.</summary>
        public static async Task<ThrowawayRedisServer> StartAsync(string serverPath, string rdbPath, TimeSpan loadTimeout, CancellationToken cancellationToken)
        {
            var directory = Path.Combine(Path.GetTempPath(), "redisrecovery-restore-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            try
            {
                using (var source = new FileStream(rdbPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan))
                using (var copy = new FileStream(Path.Combine(directory, "dump.rdb"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
                {
                    await source.CopyToAsync(copy, 1024 * 1024, cancellationToken).ConfigureAwait(false);
                }
                for (var attempt = 1; ; attempt++)
                {
                    var server = Launch(serverPath, directory, FreePort());
                    try
                    {
                        await server.WaitUntilLoadedAsync(loadTimeout, cancellationToken).ConfigureAwait(false);
                        return server;
                    }
                    catch (RedisRecoveryException) when (attempt < StartAttempts && server.ReadLog().IndexOf("Address already in use", StringComparison.Ordinal) >= 0)
                    {
                        // Another process took the free port between probing and binding.
                        server.Kill();
                    }
                    catch
                    {
                        server.Kill();
                        throw;
                    }
                }
            }
            catch
            {
                TryDeleteDirectory(directory);
                throw;
            }
        }

        public async Task<RedisConnection> ConnectAsync(CancellationToken cancellationToken) =>
            await RedisConnection.ConnectAsync(new RedisConnectionOptions(Endpoint) { ClientName = null, Protocol = RespProtocolPreference.Resp2 }, cancellationToken).ConfigureAwait(false);

        public ValueTask DisposeAsync()
        {
            Kill();
            _process.Dispose();
            TryDeleteDirectory(_directory);
            return default;
        }

        private static ThrowawayRedisServer Launch(string serverPath, string directory, int port)
        {
            var config = Path.Combine(directory, "redis.conf");
            File.WriteAllText(config, string.Join("\n",
                "port " + port,
                "bind 127.0.0.1",
                "dir " + Quote(directory),
                "dbfilename dump.rdb",
                "save \"\"",
                "appendonly no",
                "daemonize no",
                "logfile redis.log",
                string.Empty));
            var start = new ProcessStartInfo(serverPath, Quote(config))
            {
                UseShellExecute = false,
                CreateNoWindow = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = directory,
            };
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new InvalidOperationException("no process");
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                throw new RedisRecoveryException("RedisServerNotStarted", FailureKind.NotFound,
                    $"Cannot start '{serverPath}' to test the restore: {ex.Message}", ex) { Target = serverPath };
            }
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new ThrowawayRedisServer(process, directory, port);
        }

        /// <summary>Ready = PING answered with anything but -LOADING.</summary>
        private async Task WaitUntilLoadedAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                if (_process.HasExited)
                {
                    throw NotLoaded($"redis-server exited while loading the backup: {LastLogLines()}");
                }
                try
                {
                    await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                    await connection.ExecuteAsync(new RedisCommand("PING"), cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (RedisServerErrorException loading) when (loading.ErrorPrefix == "LOADING")
                {
                }
                catch (RedisConnectionException)
                {
                    // Not listening yet.
                }
                if (watch.Elapsed > timeout)
                {
                    throw NotLoaded($"redis-server did not finish loading the backup within {timeout.TotalSeconds:0.#} s.");
                }
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }

        private RedisRecoveryException NotLoaded(string message) =>
            new("BackupNotLoadable", FailureKind.CorruptData, message) { Target = Endpoint.ToString() };

        private string ReadLog()
        {
            try
            {
                var log = Path.Combine(_directory, "redis.log");
                return File.Exists(log) ? File.ReadAllText(log) : string.Empty;
            }
            catch (IOException)
            {
                return string.Empty;
            }
        }

        /// <summary>The server's own words on why loading failed: its last warning lines.</summary>
        private string LastLogLines()
        {
            var lines = ReadLog().Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
            var tail = new StringBuilder();
            for (var i = Math.Max(0, lines.Length - 3); i < lines.Length; i++)
            {
                tail.Append(lines[i].Trim()).Append(' ');
            }
            return tail.Length == 0 ? "(no log)" : tail.ToString().Trim();
        }

        private void Kill()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill();
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            try
            {
                return ((IPEndPoint)listener.LocalEndpoint).Port;
            }
            finally
            {
                listener.Stop();
            }
        }

        private static string Quote(string path) => "\"" + path.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

        private static void TryDeleteDirectory(string directory)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A file still held by the dying process; the temp folder is cleaned eventually.
            }
        }
    }
}
