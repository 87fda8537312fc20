using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Infrastructure
{
    /// <summary>How to start a test server; everything else is the test default (see RedisServerProcess).</summary>
    public sealed class RedisServerOptions
    {
        /// <summary>Extra command-line arguments, e.g. "--appendonly", "yes".</summary>
        public List<string> Arguments { get; } = new();

        /// <summary>Lines written to a redis.conf the server is started with (ACL users, renamed commands...).</summary>
        public List<string> ConfigLines { get; } = new();

        /// <summary>An existing directory to start in (to load a dump.rdb or appendonlydir placed there); default: a new temp dir.</summary>
        public string? Directory { get; set; }

        /// <summary>A fixed port, for restarting a server on the same endpoint; default: a free one.</summary>
        public int? Port { get; set; }

        /// <summary>Start with the plain (non-TLS) port closed; for TLS-only servers.</summary>
        public bool TlsOnly { get; set; }

        public ITestOutputHelper? Output { get; set; }

        public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);
    }

    /// <summary>
    /// A real redis-server on 127.0.0.1 with a free port and its own directory, killed on dispose even when the
    /// test failed; its log is written to the test output on dispose so a failing test carries it.
    /// </summary>
    public sealed class RedisServerProcess : IAsyncDisposable, IDisposable
    {
        public const string ServerExecutable = "redis-server";
        private readonly Process _process;
        private readonly bool _ownsDirectory;
        private readonly ITestOutputHelper? _output;
        private bool _disposed;

        private RedisServerProcess(Process process, int port, string directory, bool ownsDirectory, ITestOutputHelper? output)
        {
            _process = process;
            Port = port;
            Directory = directory;
            _ownsDirectory = ownsDirectory;
            _output = output;
        }

        public int Port { get; }

        public string Host => "127.0.0.1";

        public string Endpoint => $"127.0.0.1:{Port}";

        public string Directory { get; }

        public string LogPath => Path.Combine(Directory, "redis.log");

        public bool HasExited => _disposed || _process.HasExited;

        public int ProcessId => _process.Id;

        public string ReadLog() => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no log)";

        public static async Task<RedisServerProcess> StartAsync(RedisServerOptions? options = null, CancellationToken cancellationToken = default)
        {
            options ??= new RedisServerOptions();
            var ownsDirectory = options.Directory == null;
            var directory = options.Directory ?? CreateTempDirectory();
            // A free port can be taken by a parallel test between probing and binding: try a few.
            for (var attempt = 1; ; attempt++)
            {
                var port = options.Port ?? FreePort();
                var process = Launch(options, directory, port);
                var server = new RedisServerProcess(process, port, directory, ownsDirectory, options.Output);
                if (await server.WaitUntilReadyAsync(options.StartTimeout, options.TlsOnly, cancellationToken).ConfigureAwait(false))
                {
                    return server;
                }
                var log = server.ReadLog();
                server.Kill();
                if (attempt >= 3 || options.Port != null || !log.Contains("Address already in use"))
                {
                    if (ownsDirectory)
                    {
                        TryDeleteDirectory(directory);
                    }
                    throw new InvalidOperationException($"redis-server did not start on port {port}:\n{Tail(log)}");
                }
            }
        }

        public static string CreateTempDirectory()
        {
            var path = Path.Combine(Path.GetTempPath(), "redisrecovery-tests", Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(path);
            return path;
        }

        public static int FreePort()
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

        /// <summary>Kills the process (like a crash: no save) and waits for it to go.</summary>
        public void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }
            Kill();
            _disposed = true;
            _output?.WriteLine($"--- redis-server {Endpoint} log ---\n{Tail(ReadLog())}");
            _process.Dispose();
            if (_ownsDirectory)
            {
                TryDeleteDirectory(Directory);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }

        private static Process Launch(RedisServerOptions options, string directory, int port)
        {
            var start = new ProcessStartInfo(ServerExecutable)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = directory,
            };
            if (options.ConfigLines.Count > 0)
            {
                var config = Path.Combine(directory, "redis.conf");
                File.WriteAllLines(config, options.ConfigLines);
                start.ArgumentList.Add(config);
            }
            foreach (var argument in new[]
                     {
                         "--port", options.TlsOnly ? "0" : port.ToString(), "--bind", "127.0.0.1", "--dir", directory,
                         "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--logfile", "redis.log",
                         "--daemonize", "no",
                     })
            {
                start.ArgumentList.Add(argument);
            }
            if (options.TlsOnly)
            {
                start.ArgumentList.Add("--tls-port");
                start.ArgumentList.Add(port.ToString());
            }
            foreach (var argument in options.Arguments)
            {
                start.ArgumentList.Add(argument);
            }
            var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }

        /// <summary>Ready = answers PING with anything but -LOADING (NOAUTH counts: it is listening and loaded).</summary>
        private async Task<bool> WaitUntilReadyAsync(TimeSpan timeout, bool tlsOnly, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                if (_process.HasExited)
                {
                    return false;
                }
                if (tlsOnly)
                {
                    if (ReadLog().Contains("Ready to accept connections"))
                    {
                        return true;
                    }
                }
                else
                {
                    try
                    {
                        using var client = new TcpClient();
                        await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
                        var stream = client.GetStream();
                        var ping = Encoding.ASCII.GetBytes("PING\r\n");
                        await stream.WriteAsync(ping, cancellationToken).ConfigureAwait(false);
                        var buffer = new byte[128];
                        var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                        var reply = Encoding.ASCII.GetString(buffer, 0, read);
                        if (read > 0 && !reply.StartsWith("-LOADING", StringComparison.Ordinal))
                        {
                            return true;
                        }
                    }
                    catch (SocketException)
                    {
                        // not listening yet
                    }
                    catch (IOException)
                    {
                        // closed while starting
                    }
                }
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
            return false;
        }

        private static string Tail(string log)
        {
            var lines = log.Split('\n');
            return string.Join("\n", lines, Math.Max(0, lines.Length - 40), Math.Min(40, lines.Length));
        }

        private static void TryDeleteDirectory(string path)
        {
            try
            {
                System.IO.Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
                // a file still held open; the temp folder is cleaned by the OS eventually
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
