using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit.Abstractions;

namespace RedisRecovery.PowerShell.Tests.Isolation
{
    /// <summary>
    /// The private load context of PowerShell 7, exercised in a fresh child process (see <see cref="IsolationProbe"/>)
    /// on a copy of out/RedisRecovery/bin/Core. Into the copy goes one more dependency that the session already holds in
    /// another version (System.Text.Json: the framework's in the default context, 8.0 beside the engine), the situation
    /// AWS.Tools or Az create with AWSSDK.Core or System.Text.Json.
    /// </summary>
    public sealed class EngineIsolationTests : IClassFixture<EngineIsolationTests.ProbeRun>
    {
        private const string EngineContext = "RedisRecovery.Engine";
        private readonly ProbeRun _run;

        public EngineIsolationTests(ProbeRun run, ITestOutputHelper output)
        {
            _run = run;
            output.WriteLine(run.Log);
        }

        private IsolationReport Report => _run.Report;

        [Fact]
        public void Engine_LoadsIntoThePrivateContext_WithEveryDependencyShippedBesideIt()
        {
            Assert.Equal(EngineContext, Report.Engine.Context);
            Assert.Equal(Path.Combine(_run.BinCore, "RedisRecovery.dll"), Report.Engine.Location);
            Assert.Equal(Report.Engine, Report.EngineAfterSecondInstall);
            Assert.Contains(Report.Dependencies, d => d.Name == IsolationProbe.SessionAssembly);
            Assert.All(Report.Dependencies, dependency =>
            {
                Assert.Equal(EngineContext, dependency.Context);
                Assert.Equal(Path.Combine(_run.BinCore, dependency.Name + ".dll"), dependency.Location);
            });
        }

        [Fact]
        public void Dependency_TheSessionAlreadyHolds_LoadsSideBySideInItsOtherVersion()
        {
            var ours = Report.Dependencies.Single(d => d.Name == IsolationProbe.SessionAssembly);
            Assert.Equal("Default", Report.SessionCopy.Context);
            Assert.NotEqual(Report.SessionCopy.Version, ours.Version);
            Assert.Equal(EngineContext, ours.Context);
        }

        [Fact]
        public void EngineReferencesNotShippedBesideIt_FallBackToTheDefaultContext()
        {
            var framework = Report.EngineReferences.Where(r => !File.Exists(Path.Combine(_run.BinCore, r.Requested + ".dll"))).ToList();
            Assert.Contains(framework, r => r.Requested == "System.Runtime");
            Assert.All(framework, reference => Assert.Equal("Default", reference.Context));
            Assert.All(Report.EngineReferences.Except(framework), reference => Assert.Equal(EngineContext, reference.Context));
        }

        /// <summary>The copied bin/Core and one run of the probe over it, shared by the tests above.</summary>
        public sealed class ProbeRun : IDisposable
        {
            public ProbeRun()
            {
                var shipped = Path.Combine(LaidOutModule.Directory, "bin", "Core");
                Directory.CreateDirectory(BinCore);
                foreach (var file in Directory.GetFiles(shipped))
                {
                    File.Copy(file, Path.Combine(BinCore, Path.GetFileName(file)));
                }
                File.Copy(
                    Path.Combine(LaidOutModule.Directory, "bin", "Desktop", IsolationProbe.SessionAssembly + ".dll"),
                    Path.Combine(BinCore, IsolationProbe.SessionAssembly + ".dll"));
                (Report, Log) = Run(BinCore);
            }

            public string BinCore { get; } = Path.Combine(Path.GetTempPath(), "redisrecovery-isolation-" + Guid.NewGuid().ToString("N"));

            public IsolationReport Report { get; }

            public string Log { get; }

            public void Dispose() => Directory.Delete(BinCore, recursive: true);

            private static (IsolationReport Report, string Log) Run(string binCore)
            {
                var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                foreach (var argument in new[] { "exec", typeof(IsolationProbe).Assembly.Location, IsolationProbe.Verb, binCore })
                {
                    start.ArgumentList.Add(argument);
                }
                using var probe = Process.Start(start)!;
                var errors = probe.StandardError.ReadToEndAsync();
                var output = probe.StandardOutput.ReadToEnd();
                if (!probe.WaitForExit(60_000))
                {
                    probe.Kill(entireProcessTree: true);
                    throw new TimeoutException("the isolation probe did not finish within 60 s");
                }
                if (probe.ExitCode != 0)
                {
                    throw new InvalidOperationException($"the isolation probe failed ({probe.ExitCode}):\n{errors.Result}");
                }
                return (JsonSerializer.Deserialize<IsolationReport>(output)!, output + errors.Result);
            }
        }
    }
}
