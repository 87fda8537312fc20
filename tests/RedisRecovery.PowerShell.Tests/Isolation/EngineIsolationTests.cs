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
    /// on a copy of out/RedisRecovery/bin/Core, in the situation AWS.Tools or Az create: before our module loads, the
    /// default context already holds other copies of our dependencies. Every package assembly shipped in bin/Core is
    /// loaded first from another directory (AWS.Tools' AWSSDK.Core), and the copy gets one more dependency that the
    /// framework already provides in another version (System.Text.Json 8.0 from bin/Desktop; the framework's is newer).
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
            Assert.Contains(Report.Dependencies, d => d.Name == IsolationProbe.FrameworkAssembly);
            Assert.All(Report.Dependencies, dependency =>
            {
                Assert.Equal(EngineContext, dependency.Context);
                Assert.Equal(Path.Combine(_run.BinCore, dependency.Name + ".dll"), dependency.Location);
            });
        }

        [Fact]
        public void Dependencies_TheSessionAlreadyHolds_LoadSideBySideFromBinCore()
        {
            Assert.All(Report.SessionCopies, theirs =>
            {
                Assert.Equal("Default", theirs.Context);
                var ours = Report.Dependencies.Single(d => d.Name == theirs.Name);
                Assert.Equal(EngineContext, ours.Context);
                Assert.Equal(Path.Combine(_run.BinCore, ours.Name + ".dll"), ours.Location);
            });
            var framework = Report.SessionCopies.Single(c => c.Name == IsolationProbe.FrameworkAssembly);
            Assert.NotEqual(framework.Version, Report.Dependencies.Single(d => d.Name == framework.Name).Version);
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
            private readonly string _root = Path.Combine(Path.GetTempPath(), "redisrecovery-isolation-" + Guid.NewGuid().ToString("N"));

            public ProbeRun()
            {
                var shipped = Path.Combine(LaidOutModule.Directory, "bin", "Core");
                Directory.CreateDirectory(BinCore);
                Directory.CreateDirectory(OtherModule);
                foreach (var file in Directory.GetFiles(shipped))
                {
                    var name = Path.GetFileName(file);
                    File.Copy(file, Path.Combine(BinCore, name));
                    if (!name.StartsWith("RedisRecovery", StringComparison.Ordinal))
                    {
                        File.Copy(file, Path.Combine(OtherModule, name));
                    }
                }
                File.Copy(
                    Path.Combine(LaidOutModule.Directory, "bin", "Desktop", IsolationProbe.FrameworkAssembly + ".dll"),
                    Path.Combine(BinCore, IsolationProbe.FrameworkAssembly + ".dll"));
                (Report, Log) = Run(BinCore, OtherModule);
            }

            public string BinCore => Path.Combine(_root, "bin", "Core");

            /// <summary>Where "another module" loaded its own copies of our package dependencies from.</summary>
            public string OtherModule => Path.Combine(_root, "OtherModule");

            public IsolationReport Report { get; }

            public string Log { get; }

            public void Dispose() => Directory.Delete(_root, recursive: true);

            private static (IsolationReport Report, string Log) Run(string binCore, string otherModule)
            {
                var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                foreach (var argument in new[] { "exec", typeof(IsolationProbe).Assembly.Location, IsolationProbe.Verb, binCore, otherModule })
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
