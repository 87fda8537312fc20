using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RedisRecovery.PowerShell.Tests.Contract;
using Xunit.Abstractions;

namespace RedisRecovery.PowerShell.Tests
{
    /// <summary>
    /// The contract of every cmdlet in the built out/RedisRecovery, read through MetadataLoadContext: the cmdlets are
    /// discovered, not listed, so each new cmdlet is held to the same rules the moment it lands. A failure lists every
    /// offending cmdlet with what to change.
    /// </summary>
    public sealed class CmdletContractTests
    {
        private readonly ITestOutputHelper _output;
        private readonly BuiltModule _module = BuiltModule.Instance;

        public CmdletContractTests(ITestOutputHelper output)
        {
            _output = output;
        }

        public static TheoryData<CmdletRule> Rules => new(Enum.GetValues<CmdletRule>());

        [Theory]
        [MemberData(nameof(Rules))]
        public void EveryCmdlet_KeepsTheRule(CmdletRule rule)
        {
            _output.WriteLine($"Cmdlets checked: {string.Join(", ", _module.Cmdlets)}");
            AssertNone(_module.Cmdlets.SelectMany(cmdlet => _module.Checker.Check(cmdlet, rule)));
        }

        [Fact]
        public void Manifest_ExportsExactlyTheCmdletsOfTheAssembly()
        {
            var exported = _module.Manifest.StringList("CmdletsToExport");
            Assert.True(exported != null, "RedisRecovery.psd1 has no CmdletsToExport list of names");
            var problems = new List<string>();
            problems.AddRange(exported!.Where(name => name.IndexOfAny(new[] { '*', '?', '[' }) >= 0)
                .Select(name => $"'{name}' is a wildcard; list each cmdlet by name"));
            problems.AddRange(exported.GroupBy(name => name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1)
                .Select(g => $"'{g.Key}' is listed {g.Count()} times"));
            var inAssembly = _module.Cmdlets.Select(c => c.Name).ToList();
            problems.AddRange(inAssembly.Except(exported, StringComparer.Ordinal)
                .Select(name => $"{name} is in the assembly but not in CmdletsToExport"));
            problems.AddRange(exported.Except(inAssembly, StringComparer.Ordinal).Where(name => name.IndexOfAny(new[] { '*', '?', '[' }) < 0)
                .Select(name => $"{name} is in CmdletsToExport but no cmdlet class declares it (check the spelling and case)"));
            AssertNone(problems.Select(p => new ContractViolation("RedisRecovery.psd1", "CmdletsToExport", p)));
        }

        [Fact]
        public void RepairAofFile_NeverPromptsUnderTheDefaultConfirmPreference()
        {
            // Runbooks have no console: a High impact would prompt at the default $ConfirmPreference (High). Every
            // cut keeps the original bytes, and the costly ones need -Force, so Medium is the honest impact.
            var repair = _module.Cmdlets.Single(c => c.Name == "Repair-AofFile");
            Assert.True(repair.ConfirmImpact < CmdletMetadata.ConfirmImpactHigh, $"Repair-AofFile has ConfirmImpact {repair.ConfirmImpact}; it would prompt in runbooks");
        }

        [Fact]
        public void Manifest_ExportsNoFunctions()
        {
            var functions = _module.Manifest.StringList("FunctionsToExport");
            Assert.True(functions != null, "RedisRecovery.psd1 must set FunctionsToExport = @() (absent means every function)");
            Assert.Empty(functions!);
        }

        [Fact]
        public void EveryOutputType_HasAViewInAFormatFileTheManifestLoads()
        {
            var formatFiles = _module.Manifest.StringList("FormatsToProcess") ?? new List<string>();
            var problems = formatFiles.Where(file => !File.Exists(Path.Combine(_module.Directory, file)))
                .Select(file => new ContractViolation("RedisRecovery.psd1", "FormatsToProcess", $"{file} is not in out/RedisRecovery (is it in module/?)"))
                .ToList();
            var viewed = formatFiles.Select(file => Path.Combine(_module.Directory, file)).Where(File.Exists)
                .SelectMany(path => ModuleAssets.ViewedTypeNames(File.ReadAllText(path)))
                .ToHashSet(StringComparer.Ordinal);
            problems.AddRange(
                from cmdlet in _module.Cmdlets
                from type in cmdlet.OutputTypes
                where _module.Ships(type) && !viewed.Contains(type.FullName!)
                select new ContractViolation(cmdlet.Name, "FormatView",
                    $"output type {type.FullName} has no <View> (ViewSelectedBy/TypeName) in {string.Join(", ", formatFiles)}"));
            AssertNone(problems);
        }

        [Fact]
        public void FormatFiles_HaveValidViewsThatShowRealProperties()
        {
            var problems = (_module.Manifest.StringList("FormatsToProcess") ?? new List<string>())
                .Select(file => (File: file, Path: Path.Combine(_module.Directory, file)))
                .Where(f => File.Exists(f.Path))
                .SelectMany(f => ModuleAssets.ViewProblems(File.ReadAllText(f.Path), _module.FindShippedType)
                    .Select(problem => new ContractViolation(f.File, "FormatView", problem)));
            AssertNone(problems);
        }

        [Fact]
        public void Manifest_TypesFilesExist()
        {
            var missing = (_module.Manifest.StringList("TypesToProcess") ?? new List<string>())
                .Where(file => !File.Exists(Path.Combine(_module.Directory, file)))
                .Select(file => new ContractViolation("RedisRecovery.psd1", "TypesToProcess", $"{file} is not in out/RedisRecovery"));
            AssertNone(missing);
        }

        [Fact]
        public void EveryCmdlet_HasAHelpPageWithTwoExamplesAndEveryParameter()
        {
            var problems = new List<ContractViolation>();
            foreach (var cmdlet in _module.Cmdlets)
            {
                var page = Path.Combine(_module.Directory, "docs", cmdlet.Name + ".md");
                if (!File.Exists(page))
                {
                    problems.Add(new ContractViolation(cmdlet.Name, "HelpPage", $"no help page module/docs/{cmdlet.Name}.md"));
                    continue;
                }
                var text = File.ReadAllText(page);
                var examples = ModuleAssets.ExampleCount(text);
                if (examples < 2)
                {
                    problems.Add(new ContractViolation(cmdlet.Name, "HelpPage", $"{examples} ```powershell example(s) under an Examples heading; at least 2 needed"));
                }
                problems.AddRange(ModuleAssets.UndocumentedParameters(text, cmdlet)
                    .Select(name => new ContractViolation(cmdlet.Name, "HelpPage", $"the help page never mentions -{name}")));
            }
            AssertNone(problems);
        }

        [Fact]
        public void EveryCmdlet_HasAPesterSuite()
        {
            var suites = Path.Combine(LaidOutModule.RepositoryRoot, "tests", "pester");
            AssertNone(_module.Cmdlets
                .Where(cmdlet => !File.Exists(Path.Combine(suites, cmdlet.Name + ".Tests.ps1")))
                .Select(cmdlet => new ContractViolation(cmdlet.Name, "PesterSuite", $"no tests/pester/{cmdlet.Name}.Tests.ps1")));
        }

        [Fact]
        public void PesterSuites_MatchErrorIdsWithTheirCmdletTail_AndImportTheModuleUnderTest()
        {
            var suites = Path.Combine(LaidOutModule.RepositoryRoot, "tests", "pester");
            AssertNone(Directory.EnumerateFiles(suites, "*.Tests.ps1")
                .SelectMany(file => PesterConventions.Problems(File.ReadAllText(file))
                    .Select(problem => new ContractViolation(Path.GetFileName(file), "PesterConventions", problem))));
        }

        [Fact]
        public void PipelineContracts_BindEveryProducedTypeToTheConsumer()
        {
            var cmdlets = _module.Cmdlets.ToDictionary(c => c.Name, StringComparer.Ordinal);
            var problems = new List<ContractViolation>();
            foreach (var contract in PipelineContract.Table)
            {
                if (!cmdlets.TryGetValue(contract.Consumer, out var consumer)
                    || (!contract.ProducerIsType && !cmdlets.ContainsKey(contract.Producer)))
                {
                    _output.WriteLine($"not yet checked (a cmdlet has not landed): {contract}");
                    continue;
                }
                _output.WriteLine($"checked: {contract}");
                var produced = contract.ProducerIsType
                    ? new[] { _module.Inspection.FrameworkType(contract.Producer.Trim('[', ']')) }
                    : cmdlets[contract.Producer].OutputTypes;
                problems.AddRange(produced
                    .SelectMany(type => PipelineBinding.Problems(type, consumer))
                    .Select(problem => new ContractViolation(contract.ToString(), "PipelineContract", problem)));
            }
            AssertNone(problems);
        }

        [Fact]
        public void Cmdlets_NeverPrompt()
        {
            var calls = PromptFinder.PromptingCalls(Path.Combine(_module.Directory, "RedisRecovery.PowerShell.dll"));
            Assert.True(calls.Count == 0, $"the cmdlets call {string.Join(", ", calls)}: runbooks have no console; use ShouldProcess, -Force or a parameter instead");
        }

        [Fact]
        public void EngineDelegates_NeverTouchSessionStateOrTheRuntime()
        {
            // RunEngine runs them on a worker thread; paths, credentials and variables are resolved before the hand-off.
            var findings = OffThreadCallFinder.Find(Path.Combine(_module.Directory, "RedisRecovery.PowerShell.dll"));
            Assert.True(findings.Count == 0, $"{findings.Count} engine delegate(s) reach pipeline-thread members:\n{string.Join("\n", findings)}");
        }

        [Fact]
        public void PipelineContractTable_NamesCmdletsWithApprovedVerbs()
        {
            // A typo in the table would silently never be checked; a verb that PowerShell does not know is one.
            var names = PipelineContract.Table.SelectMany(c => new[] { c.Producer, c.Consumer }).Where(n => !n.StartsWith('['));
            Assert.All(names, name => Assert.Contains(name.Split('-')[0], _module.Inspection.ApprovedVerbs));
        }

        private static void AssertNone(IEnumerable<ContractViolation> violations)
        {
            var list = violations.ToList();
            Assert.True(list.Count == 0, $"{list.Count} contract violation(s):\n{string.Join("\n", list)}");
        }
    }
}
