using System.IO;
using System.Linq;

namespace RedisRecovery.PowerShell.Tests
{
    public sealed class ModuleLayoutTests
    {
        [Fact]
        public void Build_LaysOutManifestCmdletsAndEngineForBothEditions()
        {
            var module = LaidOutModule.Directory;
            Assert.True(File.Exists(Path.Combine(module, "RedisRecovery.psd1")));
            Assert.True(File.Exists(Path.Combine(module, "RedisRecovery.PowerShell.dll")));
            Assert.True(File.Exists(Path.Combine(module, "bin", "Core", "RedisRecovery.dll")));
            Assert.True(File.Exists(Path.Combine(module, "bin", "Core", "RedisRecovery.PowerShell.Loader.dll")));
            Assert.True(File.Exists(Path.Combine(module, "bin", "Desktop", "RedisRecovery.dll")));
            // The engine beside the cmdlets would be loaded outside the private load context.
            Assert.False(File.Exists(Path.Combine(module, "RedisRecovery.dll")));
        }

        [Fact]
        public void Manifest_IsStampedWithTheBuildVersion()
        {
            var manifest = File.ReadAllText(Path.Combine(LaidOutModule.Directory, "RedisRecovery.psd1"));
            var version = typeof(ModuleLayoutTests).Assembly.GetName().Version!;
            Assert.Contains($"ModuleVersion = '{version.Major}.{version.Minor}.{version.Build}'", manifest);
        }

        [Fact]
        public void DesktopEdition_ShipsTheEnginesNetStandardDependencies()
        {
            var desktop = Directory.GetFiles(Path.Combine(LaidOutModule.Directory, "bin", "Desktop"), "*.dll")
                .Select(Path.GetFileName).ToList();
            Assert.Contains("System.Memory.dll", desktop);
            Assert.Contains("System.Text.Json.dll", desktop);
        }

        [Fact]
        public void Build_CopiesEveryModuleAssetIntoTheLayout()
        {
            var assets = Path.Combine(LaidOutModule.RepositoryRoot, "module");
            var missing = Directory.GetFiles(assets, "*", SearchOption.AllDirectories)
                .Select(path => Path.GetRelativePath(assets, path))
                .Where(relative => !File.Exists(Path.Combine(LaidOutModule.Directory, relative)))
                .ToList();
            Assert.Empty(missing);
            Assert.True(File.Exists(Path.Combine(LaidOutModule.Directory, "en-US", "about_RedisRecovery.help.txt")));
        }
    }

    internal static class LaidOutModule
    {
        public static string RepositoryRoot { get; } = FindRepositoryRoot();

        public static string Directory { get; } = Path.Combine(RepositoryRoot, "out", "RedisRecovery");

        private static string FindRepositoryRoot()
        {
            var directory = new DirectoryInfo(System.AppContext.BaseDirectory);
            while (directory != null && !File.Exists(Path.Combine(directory.FullName, "RedisRecovery.sln")))
            {
                directory = directory.Parent;
            }
            return directory!.FullName;
        }
    }
}
