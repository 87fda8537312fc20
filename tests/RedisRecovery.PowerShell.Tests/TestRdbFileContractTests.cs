using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace RedisRecovery.PowerShell.Tests
{
    /// <summary>The contract of Test-RdbFile, read from the built assembly without loading PowerShell.</summary>
    public sealed class TestRdbFileContractTests
    {
        [Fact]
        public void TestRdbFile_BindsPathsLikeTheFileCmdlets_AndDeclaresItsOutput()
        {
            using var context = OpenCmdletAssembly(out var assembly);
            var command = assembly.GetType("RedisRecovery.PowerShell.Commands.TestRdbFileCommand", throwOnError: true)!;

            var cmdlet = command.GetCustomAttributesData().Single(a => a.AttributeType.Name == "CmdletAttribute");
            Assert.Equal("Test", cmdlet.ConstructorArguments[0].Value);
            Assert.Equal("RdbFile", cmdlet.ConstructorArguments[1].Value);
            Assert.Equal("Path", cmdlet.NamedArguments.Single(a => a.MemberName == "DefaultParameterSetName").TypedValue.Value);

            var outputs = command.GetCustomAttributesData().Where(a => a.AttributeType.Name == "OutputTypeAttribute")
                .SelectMany(a => a.ConstructorArguments.SelectMany(Types)).Select(t => t.FullName).ToList();
            Assert.Contains("RedisRecovery.Rdb.RdbFileCheck", outputs);
            Assert.Contains("System.Boolean", outputs);

            var path = Parameter(command, "Path");
            Assert.Equal(0, path.NamedArguments.Single(a => a.MemberName == "Position").TypedValue.Value);
            Assert.True((bool)path.NamedArguments.Single(a => a.MemberName == "ValueFromPipeline").TypedValue.Value!);
            Assert.True((bool)path.NamedArguments.Single(a => a.MemberName == "ValueFromPipelineByPropertyName").TypedValue.Value!);
            Assert.Contains(command.GetProperty("Path")!.GetCustomAttributesData(), a => a.AttributeType.Name == "SupportsWildcardsAttribute");

            var literal = Parameter(command, "LiteralPath");
            Assert.True((bool)literal.NamedArguments.Single(a => a.MemberName == "ValueFromPipelineByPropertyName").TypedValue.Value!);
            var aliases = command.GetProperty("LiteralPath")!.GetCustomAttributesData().Single(a => a.AttributeType.Name == "AliasAttribute")
                .ConstructorArguments.SelectMany(a => (System.Collections.Generic.IEnumerable<CustomAttributeTypedArgument>)a.Value!).Select(v => (string)v.Value!);
            Assert.Equal(new[] { "PSPath", "FullName" }, aliases);
            Assert.NotNull(command.GetProperty("Quiet"));
        }

        [Fact]
        public void Module_ExportsTestRdbFile_WithADefaultTableView()
        {
            var manifest = File.ReadAllText(Path.Combine(LaidOutModule.Directory, "RedisRecovery.psd1"));
            Assert.Contains("'Test-RdbFile'", manifest);
            Assert.Contains("'RedisRecovery.Rdb.format.ps1xml'", manifest);
            var format = File.ReadAllText(Path.Combine(LaidOutModule.Directory, "RedisRecovery.Rdb.format.ps1xml"));
            Assert.Contains("<TypeName>RedisRecovery.Rdb.RdbFileCheck</TypeName>", format);
            Assert.Contains("<TableControl>", format);
            Assert.True(File.Exists(Path.Combine(LaidOutModule.Directory, "docs", "Test-RdbFile.md")));
        }

        private static CustomAttributeData Parameter(Type command, string name) =>
            command.GetProperty(name)!.GetCustomAttributesData().Single(a => a.AttributeType.Name == "ParameterAttribute");

        private static Type[] Types(CustomAttributeTypedArgument argument) => argument.Value switch
        {
            Type type => new[] { type },
            System.Collections.Generic.IEnumerable<CustomAttributeTypedArgument> items => items.Select(i => (Type)i.Value!).ToArray(),
            _ => Array.Empty<Type>(),
        };

        private static MetadataLoadContext OpenCmdletAssembly(out Assembly assembly)
        {
            var powerShell = typeof(TestRdbFileContractTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "PowerShellReferenceAssembly").Value!;
            var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
                .Concat(Directory.GetFiles(Path.Combine(LaidOutModule.Directory, "bin", "Desktop"), "*.dll"))
                .Append(powerShell)
                .Append(Path.Combine(LaidOutModule.Directory, "RedisRecovery.PowerShell.dll"))
                .GroupBy(Path.GetFileName).Select(g => g.First());
            var context = new MetadataLoadContext(new PathAssemblyResolver(paths));
            assembly = context.LoadFromAssemblyPath(Path.Combine(LaidOutModule.Directory, "RedisRecovery.PowerShell.dll"));
            return context;
        }
    }
}
