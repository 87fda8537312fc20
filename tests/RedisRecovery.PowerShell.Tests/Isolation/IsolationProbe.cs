using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;

namespace RedisRecovery.PowerShell.Tests.Isolation
{
    /// <summary>
    /// Where an assembly was loaded from, and into which load context.
    /// </summary>
    public sealed record LoadedAssembly(string Requested, string Name, string Version, string Context, string Location);

    /// <summary>What a fresh process saw after installing the engine load context the way the module initializer does.</summary>
    public sealed record IsolationReport(
        IReadOnlyList<LoadedAssembly> SessionCopies, LoadedAssembly Engine, LoadedAssembly EngineAfterSecondInstall,
        IReadOnlyList<LoadedAssembly> Dependencies, IReadOnlyList<LoadedAssembly> EngineReferences);

    /// <summary>
    /// Runs in a child process (this test assembly started with <c>dotnet exec</c>), because installing the engine
    /// load context hooks the default context for the life of the process: the test process stays clean, and the child
    /// starts like a PowerShell session with nothing of ours loaded.
    /// </summary>
    public static class IsolationProbe
    {
        public const string Verb = "probe-isolation";

        /// <summary>A framework assembly the session holds in its default context, as PowerShell 7 holds its own copy.</summary>
        public const string FrameworkAssembly = "System.Text.Json";

        public static int Main(string[] args)
        {
            if (args.Length != 3 || args[0] != Verb)
            {
                Console.Error.WriteLine($"usage: {Verb} <directory laid out like out/RedisRecovery/bin/Core> <assemblies another module loaded>");
                return 2;
            }
            Console.WriteLine(JsonSerializer.Serialize(Probe(args[1], args[2])));
            return 0;
        }

        private static IsolationReport Probe(string directory, string otherModuleDirectory)
        {
            // What the session holds before our module is imported: the framework's copies, and what another module
            // (AWS.Tools with its AWSSDK.Core) loaded from its own directory into the default context.
            var sessionCopies = Directory.EnumerateFiles(otherModuleDirectory, "*.dll")
                .Select(path => AssemblyLoadContext.Default.LoadFromAssemblyPath(path))
                .Prepend(typeof(JsonSerializer).Assembly)
                .Select(assembly => Describe(assembly.GetName().Name!, assembly))
                .ToList();

            // What ModuleInitializer.InstallCoreLoadContext does.
            var loader = Assembly.LoadFrom(Path.Combine(directory, "RedisRecovery.PowerShell.Loader.dll"));
            var install = loader.GetType("RedisRecovery.PowerShell.Loader.EngineLoadContext", throwOnError: true)!
                .GetMethod("Install", BindingFlags.Public | BindingFlags.Static)!;
            install.Invoke(null, new object[] { directory });

            // The cmdlets reference the engine by name: the default context resolves that reference like this.
            var engine = AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName("RedisRecovery"));
            var engineContext = AssemblyLoadContext.GetLoadContext(engine)!;

            // A second Import-Module -Force runs the initializer again.
            install.Invoke(null, new object[] { directory });
            var engineAgain = AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName("RedisRecovery"));

            // Everything shipped beside the engine is what the engine's references resolve to inside its context.
            var dependencies = Directory.EnumerateFiles(directory, "*.dll")
                .Select(path => Path.GetFileNameWithoutExtension(path))
                .Where(name => name is not ("RedisRecovery" or "RedisRecovery.PowerShell.Loader"))
                .OrderBy(name => name, StringComparer.Ordinal)
                .Select(name => Describe(name, engineContext.LoadFromAssemblyName(new AssemblyName(name))))
                .ToList();
            var references = engine.GetReferencedAssemblies()
                .Select(reference => Describe(reference.Name!, engineContext.LoadFromAssemblyName(reference)))
                .ToList();
            return new IsolationReport(
                sessionCopies, Describe("RedisRecovery", engine), Describe("RedisRecovery", engineAgain),
                dependencies, references);
        }

        private static LoadedAssembly Describe(string requested, Assembly assembly)
        {
            var name = assembly.GetName();
            return new LoadedAssembly(
                requested, name.Name!, name.Version!.ToString(), AssemblyLoadContext.GetLoadContext(assembly)!.Name!, assembly.Location);
        }
    }
}
