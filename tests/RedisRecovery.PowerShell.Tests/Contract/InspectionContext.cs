using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>
    /// A MetadataLoadContext over the framework this process runs on, PowerShellStandard's reference
    /// System.Management.Automation and the given directories: assemblies are read, never executed, so the
    /// netstandard cmdlets and the reference assembly can be inspected where no PowerShell exists.
    /// </summary>
    internal sealed class InspectionContext : IDisposable
    {
        private static readonly string[] VerbGroups =
        {
            "VerbsCommon", "VerbsCommunications", "VerbsData", "VerbsDiagnostic", "VerbsLifecycle", "VerbsSecurity", "VerbsOther",
        };

        private readonly MetadataLoadContext _context;

        public InspectionContext(IEnumerable<string> probingDirectories)
        {
            // The first file found for a simple name wins: PowerShell, the framework, then the given directories, so an
            // assembly shipped in several places (netstandard facades, System.*) resolves to the framework's.
            var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var sources = new[] { RuntimeEnvironment.GetRuntimeDirectory() }.Concat(probingDirectories)
                .SelectMany(directory => Directory.EnumerateFiles(directory, "*.dll"))
                .Prepend(PowerShellReferenceAssembly);
            foreach (var path in sources)
            {
                paths.TryAdd(Path.GetFileNameWithoutExtension(path), path);
            }
            _context = new MetadataLoadContext(new PathAssemblyResolver(paths.Values), "System.Private.CoreLib");
            PowerShell = _context.LoadFromAssemblyPath(PowerShellReferenceAssembly);
            ApprovedVerbs = ReadApprovedVerbs(PowerShell);
        }

        /// <summary>PowerShellStandard's System.Management.Automation, the API both editions share.</summary>
        public static string PowerShellReferenceAssembly { get; } = typeof(InspectionContext).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "PowerShellReferenceAssembly").Value!;

        public Assembly PowerShell { get; }

        /// <summary>The verbs PowerShell approves, read from the Verbs* constant classes of the reference assembly.</summary>
        public IReadOnlySet<string> ApprovedVerbs { get; }

        public Assembly Load(string path) => _context.LoadFromAssemblyPath(path);

        /// <summary>A framework type by full name, e.g. System.IO.FileInfo.</summary>
        public Type FrameworkType(string fullName) =>
            _context.CoreAssembly!.GetType(fullName, throwOnError: true)!;

        public void Dispose() => _context.Dispose();

        private static IReadOnlySet<string> ReadApprovedVerbs(Assembly powerShell) =>
            VerbGroups
                .Select(group => powerShell.GetType("System.Management.Automation." + group, throwOnError: true)!)
                .SelectMany(group => group.GetFields(BindingFlags.Public | BindingFlags.Static))
                .Where(field => field.IsLiteral && field.FieldType.FullName == "System.String")
                .Select(field => (string)field.GetRawConstantValue()!)
                .ToHashSet(StringComparer.Ordinal);
    }
}
