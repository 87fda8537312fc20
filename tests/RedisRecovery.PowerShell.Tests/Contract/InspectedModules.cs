using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>The laid-out module as the contract tests see it: files, manifest and the cmdlets read from metadata.</summary>
    internal sealed class BuiltModule
    {
        public const string BaseClass = "RedisRecovery.PowerShell.RedisRecoveryCmdlet";
        private static readonly Lazy<BuiltModule> s_instance = new(() => new BuiltModule(LaidOutModule.Directory));
        private readonly Assembly[] _shipped;

        private BuiltModule(string directory)
        {
            Directory = directory;
            // The engine (net8.0, bin/Core) resolves the engine types that cmdlets output or take as parameters.
            Inspection = new InspectionContext(new[] { directory, Path.Combine(directory, "bin", "Core") });
            var cmdletAssembly = Inspection.Load(Path.Combine(directory, "RedisRecovery.PowerShell.dll"));
            Cmdlets = CmdletMetadata.FindAll(cmdletAssembly);
            _shipped = new[] { cmdletAssembly, Inspection.Load(Path.Combine(directory, "bin", "Core", "RedisRecovery.dll")) };
            Manifest = ModuleManifest.Parse(File.ReadAllText(Path.Combine(directory, "RedisRecovery.psd1")));
            Checker = new CmdletContractChecker(Inspection.ApprovedVerbs, BaseClass);
        }

        public static BuiltModule Instance => s_instance.Value;

        public string Directory { get; }

        public InspectionContext Inspection { get; }

        public IReadOnlyList<CmdletMetadata> Cmdlets { get; }

        public ModuleManifest Manifest { get; }

        public CmdletContractChecker Checker { get; }

        /// <summary>A type of the cmdlet or engine assembly by full name, or null when it is not ours.</summary>
        public Type? FindShippedType(string fullName) =>
            _shipped.Select(assembly => assembly.GetType(fullName)).FirstOrDefault(type => type != null);

        /// <summary>Whether a type is the module's own (engine or cmdlets), as opposed to the framework's or PowerShell's.</summary>
        public bool Ships(Type type) => _shipped.Contains(type.Assembly);
    }

    /// <summary>The sample cmdlets compiled into this test assembly, read the same way, to prove each rule can fail.</summary>
    internal static class SampleCmdlets
    {
        public const string BaseClass = "RedisRecovery.PowerShell.Tests.Samples.SampleModuleCmdlet";
        private static readonly Lazy<(InspectionContext Inspection, IReadOnlyList<CmdletMetadata> Cmdlets)> s_samples = new(() =>
        {
            var inspection = new InspectionContext(new[] { AppContext.BaseDirectory });
            var assembly = inspection.Load(typeof(SampleCmdlets).Assembly.Location);
            return (inspection, CmdletMetadata.FindAll(assembly, "RedisRecovery.PowerShell.Tests.Samples"));
        });

        public static InspectionContext Inspection => s_samples.Value.Inspection;

        public static IReadOnlyList<CmdletMetadata> All => s_samples.Value.Cmdlets;

        public static CmdletContractChecker Checker { get; } = new(Inspection.ApprovedVerbs, BaseClass);

        /// <summary>The sample whose class is named so (pass nameof(SomeCommand): that does not load the type).</summary>
        public static CmdletMetadata Named(string className) =>
            All.Single(c => c.Type.Name == className);

        /// <summary>A type of this test assembly as the inspection context sees it.</summary>
        public static Type Type(string fullName) =>
            Named(nameof(Samples.GetSampleWidgetCommand)).Type.Assembly.GetType(fullName, throwOnError: true)!;
    }
}
