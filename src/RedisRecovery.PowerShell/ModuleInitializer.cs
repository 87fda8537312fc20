using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;

namespace RedisRecovery.PowerShell
{
    /// <summary>
    /// Makes the engine and its dependencies loadable before any cmdlet touches them: a private load context on
    /// PowerShell 7 (bin/Core), a resolver limited to our own files on Windows PowerShell 5.1 (bin/Desktop).
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly string ModuleDirectory =
            Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? ".";

        private static Dictionary<string, string>? s_desktopDependencies;

        public void OnImport()
        {
            if (RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal))
            {
                InstallDesktopResolver();
            }
            else
            {
                InstallCoreLoadContext();
            }
        }

        public void OnRemove(PSModuleInfo module)
        {
            if (s_desktopDependencies != null)
            {
                AppDomain.CurrentDomain.AssemblyResolve -= ResolveDesktopDependency;
                s_desktopDependencies = null;
            }
        }

        private static void InstallCoreLoadContext()
        {
            var directory = Path.Combine(ModuleDirectory, "bin", "Core");
            // The load context type cannot be compiled into a netstandard2.0 assembly, so it ships in its own
            // net8.0 assembly and is reached by reflection, once.
            var loader = Assembly.LoadFrom(Path.Combine(directory, "RedisRecovery.PowerShell.Loader.dll"));
            var install = loader.GetType("RedisRecovery.PowerShell.Loader.EngineLoadContext", throwOnError: true)!
                .GetMethod("Install", BindingFlags.Public | BindingFlags.Static)!;
            install.Invoke(null, new object[] { directory });
        }

        private static void InstallDesktopResolver()
        {
            var directory = Path.Combine(ModuleDirectory, "bin", "Desktop");
            s_desktopDependencies = Directory.EnumerateFiles(directory, "*.dll")
                .ToDictionary(path => Path.GetFileNameWithoutExtension(path), StringComparer.OrdinalIgnoreCase);
            AppDomain.CurrentDomain.AssemblyResolve += ResolveDesktopDependency;
        }

        private static Assembly? ResolveDesktopDependency(object sender, ResolveEventArgs args)
        {
            var name = new AssemblyName(args.Name).Name;
            var dependencies = s_desktopDependencies;
            return dependencies != null && name != null && dependencies.TryGetValue(name, out var path)
                ? Assembly.LoadFrom(path)
                : null;
        }
    }
}
