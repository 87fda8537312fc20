using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;

namespace RedisRecovery.PowerShell.Tests.Isolation
{
    /// <summary>
    /// What PowerShell 7 must be able to resolve, read from the assembly references of the laid-out files: the cmdlets
    /// live in the default context, which has only the framework, PowerShell and (through the engine context) the
    /// engine; the engine context has bin/Core and falls back to the framework. A reference outside these sets is a
    /// FileNotFoundException the first time a cmdlet runs, on a machine with PowerShell, long after the build.
    /// (The framework here is the one the tests run on, a newer one than PowerShell 7.4's .NET 8.)
    /// </summary>
    public sealed class DependencyClosureTests
    {
        private static readonly string Framework = RuntimeEnvironment.GetRuntimeDirectory();
        private static readonly string BinCore = Path.Combine(LaidOutModule.Directory, "bin", "Core");

        [Fact]
        public void Cmdlets_ReferenceOnlyTheFrameworkPowerShellAndTheEngine()
        {
            var cmdlets = Path.Combine(LaidOutModule.Directory, "RedisRecovery.PowerShell.dll");
            var unresolvable = References(cmdlets)
                .Where(name => name is not ("System.Management.Automation" or "RedisRecovery") && !InFramework(name));
            Assert.Empty(unresolvable);
        }

        [Fact]
        public void EverythingInBinCore_ReferencesOnlyBinCoreOrTheFramework()
        {
            var unresolvable = Directory.GetFiles(BinCore, "*.dll")
                .SelectMany(file => References(file).Select(name => (File: Path.GetFileName(file), Reference: name)))
                .Where(r => !InFramework(r.Reference) && !File.Exists(Path.Combine(BinCore, r.Reference + ".dll")))
                .Select(r => $"{r.File} -> {r.Reference}");
            Assert.Empty(unresolvable);
        }

        [Fact]
        public void DesktopEdition_ShipsEveryPackageAssemblyTheCmdletsAndEngineReference()
        {
            // netstandard2.0 assemblies reference netstandard (which .NET Framework 4.7.2 provides) and packages; on
            // Windows PowerShell 5.1 the module's resolver serves packages from bin/Desktop only.
            var binDesktop = Path.Combine(LaidOutModule.Directory, "bin", "Desktop");
            var unresolvable = Directory.GetFiles(binDesktop, "*.dll")
                .Append(Path.Combine(LaidOutModule.Directory, "RedisRecovery.PowerShell.dll"))
                .SelectMany(file => References(file).Select(name => (File: Path.GetFileName(file), Reference: name)))
                .Where(r => r.Reference is not ("netstandard" or "mscorlib" or "System.Management.Automation"))
                .Where(r => !File.Exists(Path.Combine(binDesktop, r.Reference + ".dll")))
                .Select(r => $"{r.File} -> {r.Reference}");
            Assert.Empty(unresolvable);
        }

        private static bool InFramework(string name) => File.Exists(Path.Combine(Framework, name + ".dll"));

        private static IReadOnlyList<string> References(string path)
        {
            using var pe = new PEReader(File.OpenRead(path));
            var metadata = pe.GetMetadataReader();
            return metadata.AssemblyReferences
                .Select(handle => metadata.GetString(metadata.GetAssemblyReference(handle).Name))
                .ToList();
        }
    }
}
