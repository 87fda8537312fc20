using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace RedisRecovery.PowerShell.Loader
{
    /// <summary>
    /// Loads the engine and every assembly shipped beside it privately, so that a session which already loaded
    /// another AWSSDK.Core or System.Text.Json (AWS.Tools, Az) can still import this module and vice versa.
    /// </summary>
    public sealed class EngineLoadContext : AssemblyLoadContext
    {
        private const string EngineAssemblyName = "RedisRecovery";
        private static readonly object s_installLock = new object();
        private static EngineLoadContext? s_instance;
        private readonly string _dependencyDirectory;

        private EngineLoadContext(string dependencyDirectory) : base("RedisRecovery.Engine", isCollectible: false)
        {
            _dependencyDirectory = dependencyDirectory;
        }

        /// <summary>
        /// Called from the module initializer on every import; the first one creates the context, later imports reuse
        /// it. Runspaces can import at the same moment (ForEach-Object -Parallel), hence the lock: without it two
        /// imports could each create a context and hook the default context twice.
        /// </summary>
        public static void Install(string dependencyDirectory)
        {
            lock (s_installLock)
            {
                if (s_instance != null)
                {
                    return;
                }
                var context = new EngineLoadContext(dependencyDirectory);
                // Only the engine is served to the default context (the cmdlets reference it); everything the engine
                // needs is then resolved inside this context by Load below.
                Default.Resolving += (_, name) =>
                    string.Equals(name.Name, EngineAssemblyName, StringComparison.Ordinal)
                        ? context.LoadFromAssemblyName(name)
                        : null;
                s_instance = context;
            }
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var candidate = Path.Combine(_dependencyDirectory, assemblyName.Name + ".dll");
            // Returning null falls back to the default context: that is how framework assemblies resolve.
            return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
        }
    }
}
