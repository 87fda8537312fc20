using System.Collections.Generic;
using System.Linq;
using RedisRecovery.PowerShell.Tests.Contract;
using RedisRecovery.PowerShell.Tests.Samples;

namespace RedisRecovery.PowerShell.Tests
{
    /// <summary>
    /// The contract checker against the sample cmdlets in Samples/: each broken rule is reported, and a cmdlet that
    /// keeps the rules passes them all, so a green contract run means something.
    /// </summary>
    public sealed class CheckerTests
    {
        [Fact]
        public void Discovery_FindsEveryCmdletClassPublicOrNot_AndReadsItsDeclaration()
        {
            Assert.Contains(SampleCmdlets.All, c => c.Name == "Get-SampleHidden");
            var get = SampleCmdlets.Named(nameof(GetSampleWidgetCommand));
            Assert.Equal("Get-SampleWidget", get.Name);
            Assert.Equal(GetSampleWidgetCommand.ByName, get.DefaultParameterSetName);
            Assert.Equal(new[] { "RedisRecovery.PowerShell.Tests.Samples.SampleWidget" }, get.OutputTypes.Select(t => t.FullName));
            var path = get.Parameters.Single(p => p.Name == "Path");
            Assert.Equal(new[] { "PSPath", "FullName" }, path.Aliases);
            var entry = Assert.Single(path.Sets);
            Assert.Equal(new ParameterSetEntry(GetSampleWidgetCommand.ByPath, true, 0, false, true), entry);
            var remove = SampleCmdlets.Named(nameof(RemoveSampleWidgetCommand));
            Assert.True(remove.SupportsShouldProcess);
            Assert.Equal(CmdletMetadata.ConfirmImpactHigh, remove.ConfirmImpact);
        }

        [Fact]
        public void ApprovedVerbs_AreReadFromThePowerShellReferenceAssembly()
        {
            var verbs = SampleCmdlets.Inspection.ApprovedVerbs;
            Assert.Superset(new HashSet<string> { "Get", "Test", "Backup", "Restore", "Repair", "Remove", "Copy", "Use" }, verbs.ToHashSet());
            Assert.DoesNotContain("Frobnicate", verbs);
            Assert.True(verbs.Count > 90, $"only {verbs.Count} verbs read");
        }

        [Theory]
        [InlineData(nameof(GetSampleWidgetCommand))]
        [InlineData(nameof(RemoveSampleWidgetCommand))]
        [InlineData(nameof(TestSampleWidgetCommand))]
        public void CmdletThatKeepsTheRules_HasNoViolation(string sample)
        {
            Assert.Empty(SampleCmdlets.Checker.CheckAll(SampleCmdlets.Named(sample)));
        }

        [Theory]
        [InlineData(nameof(FrobnicateSampleWidgetCommand), CmdletRule.ApprovedVerb, "'Frobnicate' is not an approved verb")]
        [InlineData(nameof(FrobnicateSampleWidgetCommand), CmdletRule.OutputType, "has no [OutputType]")]
        [InlineData(nameof(GetSampleInternalOutputCommand), CmdletRule.OutputType, "GetSampleInternalOutputCommand+InternalResult is not public")]
        [InlineData(nameof(GetSampleInternalOutputCommand), CmdletRule.OutputType, "[OutputType(\"RedisRecovery.Unknown\")] names a type by string")]
        [InlineData(nameof(SetSampleWidgetCommand), CmdletRule.ShouldProcess, "verb 'Set' changes state but the cmdlet does not declare SupportsShouldProcess")]
        [InlineData(nameof(ClearSampleWidgetCommand), CmdletRule.ConfirmImpact, "verb 'Clear' destroys or overwrites data but ConfirmImpact is not High")]
        [InlineData(nameof(GetSampleParameterSetMistakesCommand), CmdletRule.ParameterSets, "has parameter sets A, B but no DefaultParameterSetName")]
        [InlineData(nameof(GetSampleParameterSetMistakesCommand), CmdletRule.ParameterSets, "-First and -Second share position 0 in set A")]
        [InlineData(nameof(GetSampleParameterSetMistakesCommand), CmdletRule.ParameterSets, "-First and -Second all take System.String from the pipeline in set A")]
        [InlineData(nameof(GetSampleUnknownDefaultSetCommand), CmdletRule.ParameterSets, "DefaultParameterSetName 'Missing' is none of its parameter sets (A, B)")]
        [InlineData(nameof(GetSampleAllSetsClashCommand), CmdletRule.ParameterSets, "-Everywhere and -OnlyB share position 0 in set B")]
        [InlineData(nameof(ConnectSampleServerCommand), CmdletRule.SecretParameters, "-Password is a String; secrets must be PSCredential or SecureString")]
        [InlineData(nameof(ConnectSampleServerCommand), CmdletRule.SecretParameters, "-SecretKey is a String[]; secrets must be PSCredential or SecureString")]
        [InlineData(nameof(ConnectSampleServerCommand), CmdletRule.ParameterNames, "-Endpoint uses the name 'ea' of a common parameter")]
        [InlineData(nameof(ConnectSampleServerCommand), CmdletRule.ParameterNames, "the name 'Endpoint' is claimed more than once (by -Endpoint, -Address)")]
        [InlineData(nameof(GetSampleNotDerivedCommand), CmdletRule.BaseClass, "does not derive from RedisRecovery.PowerShell.Tests.Samples.SampleModuleCmdlet")]
        [InlineData(nameof(GetSampleHiddenCommand), CmdletRule.PublicClass, "is not a public top-level class")]
        [InlineData(nameof(GetSampleAmbiguousSetsCommand), CmdletRule.ParameterSetAmbiguity, "sets A and B cannot be told apart: a call with only -Shared fits both")]
        [InlineData(nameof(GetSampleDynamicCommand), CmdletRule.SecretParameters, "-Password is a String; secrets must be PSCredential or SecureString")]
        [InlineData(nameof(GetSampleDynamicCommand), CmdletRule.ParameterNames, "the name 'Name' is claimed more than once (by -Name, -Label)")]
        [InlineData(nameof(GetSampleHiddenDynamicCommand), CmdletRule.DynamicParameters, "implements IDynamicParameters but holds no field")]
        public void CmdletThatBreaksARule_IsReported(string sample, CmdletRule rule, string expected)
        {
            var violations = SampleCmdlets.Checker.Check(SampleCmdlets.Named(sample), rule).Select(v => v.Detail).ToList();
            Assert.Contains(violations, detail => detail.Contains(expected));
        }

        [Fact]
        public void ParameterSetRule_ReportsOnlyTheSetWhereAPositionClashes()
        {
            // -Everywhere (all sets, position 0) meets -OnlyA at position 1 in set A: fine; -OnlyB at 0 in set B: not.
            var violation = Assert.Single(SampleCmdlets.Checker.Check(SampleCmdlets.Named(nameof(GetSampleAllSetsClashCommand)), CmdletRule.ParameterSets));
            Assert.Equal("-Everywhere and -OnlyB share position 0 in set B", violation.Detail);
        }

        [Fact]
        public void AmbiguityRule_SparesASetToldApartByAMandatoryParameter()
        {
            // C holds all of A's parameters too, but needs -Required: a call without it can only mean A.
            var violation = Assert.Single(SampleCmdlets.Checker.Check(SampleCmdlets.Named(nameof(GetSampleAmbiguousSetsCommand)), CmdletRule.ParameterSetAmbiguity));
            Assert.StartsWith("sets A and B ", violation.Detail);
        }

        [Fact]
        public void DynamicParameters_AreReadFromTheFieldThatHoldsThem()
        {
            var cmdlet = SampleCmdlets.Named(nameof(GetSampleDynamicCommand));
            Assert.Equal(new[] { "Name", "Password", "Label" }, cmdlet.Parameters.Select(p => p.Name));
            Assert.Equal(new[] { false, true, true }, cmdlet.Parameters.Select(p => p.IsDynamic));
        }

        [Fact]
        public void SecretRule_ReportsTheSecretsButNotTheirIds()
        {
            var details = SampleCmdlets.Checker.Check(SampleCmdlets.Named(nameof(ConnectSampleServerCommand)), CmdletRule.SecretParameters)
                .Select(v => v.Detail);
            Assert.Equal(
                new[] { "-Password is a String; secrets must be PSCredential or SecureString", "-SecretKey is a String[]; secrets must be PSCredential or SecureString" },
                details);
        }

        [Theory]
        [InlineData("[System.IO.FileInfo]", nameof(GetSampleWidgetCommand))]
        [InlineData("[System.String]", nameof(GetSampleWidgetCommand))]
        [InlineData("RedisRecovery.PowerShell.Tests.Samples.SampleWidget", nameof(RemoveSampleWidgetCommand))]
        [InlineData("RedisRecovery.PowerShell.Tests.Samples.SampleWidget", nameof(TestSampleWidgetCommand))]
        public void PipelineBinding_AcceptsObjectsThatBindASet(string produced, string consumer)
        {
            Assert.Empty(PipelineBinding.Problems(SampleType(produced), SampleCmdlets.Named(consumer)));
        }

        [Theory]
        [InlineData("RedisRecovery.PowerShell.Tests.Samples.SampleGadget", nameof(TestSampleWidgetCommand),
            "SampleGadget.File is a SampleWidget, which does not convert to -File (FileInfo)")]
        [InlineData("RedisRecovery.PowerShell.Tests.Samples.SampleGadget", nameof(TestSampleWidgetCommand),
            "binds no parameter set of Test-SampleWidget: its parameters: no value for mandatory -File (property File)")]
        [InlineData("[System.String]", nameof(TestSampleWidgetCommand),
            "System.String binds no parameter set of Test-SampleWidget")]
        [InlineData("RedisRecovery.PowerShell.Tests.Samples.SampleGadget", nameof(RemoveSampleWidgetCommand),
            "set ByName: no value for mandatory -Name (property Name); set ByObject: no value for mandatory -InputObject (a SampleWidget by value)")]
        public void PipelineBinding_ReportsObjectsThatBindNoSet(string produced, string consumer, string expected)
        {
            var problems = PipelineBinding.Problems(SampleType(produced), SampleCmdlets.Named(consumer));
            Assert.Contains(problems, p => p.Contains(expected));
        }

        [Theory]
        [InlineData(nameof(GetSampleDynamicCommand), "SampleWidget.Name binds -Name and -Label at once in its parameters")]
        [InlineData(nameof(SetSampleLabelCommand), "SampleWidget.Name is a String, bound to -Name (Object) as text, not as the object it names")]
        public void PipelineBinding_ReportsAPropertyThatBindsAmbiguouslyOrAsText(string consumer, string expected)
        {
            var problems = PipelineBinding.Problems(SampleType("RedisRecovery.PowerShell.Tests.Samples.SampleWidget"), SampleCmdlets.Named(consumer));
            Assert.Contains(expected, problems);
        }

        [Fact]
        public void PipelineBinding_NamesTheMandatoryParameterNoPropertyFeeds()
        {
            // SizeBytes binds -Size, but the only set also needs -File.
            var problems = PipelineBinding.Problems(
                SampleType("RedisRecovery.PowerShell.Tests.Samples.SampleMeasurement"), SampleCmdlets.Named(nameof(TestSampleWidgetCommand)));
            Assert.Contains(problems, p => p.EndsWith("its parameters: no value for mandatory -File (property File)"));
            Assert.Single(problems);
        }

        [Fact]
        public void ManifestParser_ReadsListsInEitherSyntax_AndIgnoresComments()
        {
            var manifest = ModuleManifest.Parse("""
                @{
                    # CmdletsToExport = @('Commented-Out')
                    CmdletsToExport = @(
                        'Get-RedisBackup'   # the catalog
                        "Test-RdbFile",
                        'Test-It''s'
                    )
                    <# FunctionsToExport = '*' #>
                    FunctionsToExport = @()
                    FormatsToProcess = 'A.format.ps1xml', 'B.format.ps1xml'
                }
                """);
            Assert.Equal(new[] { "Get-RedisBackup", "Test-RdbFile", "Test-It's" }, manifest.StringList("CmdletsToExport"));
            Assert.Empty(manifest.StringList("FunctionsToExport")!);
            Assert.Equal(new[] { "A.format.ps1xml", "B.format.ps1xml" }, manifest.StringList("FormatsToProcess"));
            Assert.Null(manifest.StringList("TypesToProcess"));
        }

        [Fact]
        public void HelpPage_CountsPowerShellBlocksUnderExamplesOnly()
        {
            var page = """
                # Test-RdbFile
                ## SYNOPSIS
                ```powershell
                Test-RdbFile -Path x
                ```
                ## EXAMPLES
                ### Example 1: one file
                ```powershell
                # a comment, not a heading
                Test-RdbFile -Path ./dump.rdb
                ```
                ### Example 2: many files
                ```powershell
                Get-ChildItem *.rdb | Test-RdbFile
                ```
                ```text
                output
                ```
                ## PARAMETERS
                ```powershell
                not an example
                ```
                """;
            Assert.Equal(2, ModuleAssets.ExampleCount(page));
            Assert.Equal(0, ModuleAssets.ExampleCount("# Get-Thing\n```powershell\nGet-Thing\n```\n"));
        }

        [Fact]
        public void HelpPage_ReportsParametersItNeverMentions()
        {
            var cmdlet = SampleCmdlets.Named(nameof(RemoveSampleWidgetCommand));
            Assert.Equal(new[] { "InputObject" }, ModuleAssets.UndocumentedParameters("### -Name\nThe name. Not -InputObjects.", cmdlet));
        }

        [Fact]
        public void FormatFile_ViewsAreFoundByTypeName()
        {
            var names = ModuleAssets.ViewedTypeNames("""
                <Configuration><ViewDefinitions>
                  <View><Name>Default</Name><ViewSelectedBy><TypeName> RedisRecovery.RdbBackup </TypeName></ViewSelectedBy><TableControl/></View>
                </ViewDefinitions></Configuration>
                """);
            Assert.Equal(new[] { "RedisRecovery.RdbBackup" }, names);
        }

        [Fact]
        public void FormatFile_ViewProblemsAreReported()
        {
            var problems = ModuleAssets.ViewProblems("""
                <Configuration><ViewDefinitions>
                  <View><Name>Good</Name><ViewSelectedBy><TypeName>RedisRecovery.PowerShell.Tests.Samples.SampleWidget</TypeName></ViewSelectedBy>
                    <TableControl>
                      <TableHeaders><TableColumnHeader/><TableColumnHeader/></TableHeaders>
                      <TableRowEntries><TableRowEntry><TableColumnItems>
                        <TableColumnItem><PropertyName>name</PropertyName></TableColumnItem>
                        <TableColumnItem><ScriptBlock>'{0:N1}' -f ($_.SizeBytes / 1MB) + $_.GetType().Name</ScriptBlock></TableColumnItem>
                      </TableColumnItems></TableRowEntry></TableRowEntries>
                    </TableControl></View>
                  <View><Name>Bad</Name><ViewSelectedBy><TypeName>RedisRecovery.PowerShell.Tests.Samples.SampleWidget</TypeName></ViewSelectedBy>
                    <TableControl>
                      <TableHeaders><TableColumnHeader/><TableColumnHeader/></TableHeaders>
                      <TableRowEntries><TableRowEntry><TableColumnItems>
                        <TableColumnItem><PropertyName>Size</PropertyName></TableColumnItem>
                      </TableColumnItems></TableRowEntry></TableRowEntries>
                    </TableControl>
                    <ListControl/></View>
                  <View><ViewSelectedBy/><ListControl><ListEntries><ListEntry><ListItems>
                    <ListItem><ScriptBlock>$PSItem.Whatever</ScriptBlock></ListItem>
                  </ListItems></ListEntry></ListEntries></ListControl></View>
                </ViewDefinitions></Configuration>
                """, name => name.StartsWith("RedisRecovery.", System.StringComparison.Ordinal) ? SampleCmdlets.Type(name) : null).ToList();
            Assert.Equal(
                new[]
                {
                    "view Bad has 2 controls; exactly one of TableControl, ListControl, WideControl, CustomControl is needed",
                    "view Bad has 2 column headers but a row of 1 items",
                    "view Bad shows Size, which RedisRecovery.PowerShell.Tests.Samples.SampleWidget does not have",
                    "a <View> has no <Name>",
                    "view (unnamed) selects no type (ViewSelectedBy/TypeName)",
                },
                problems);
        }

        [Fact]
        public void PromptFinder_FindsShouldContinueAndHostReads()
        {
            Assert.Equal(
                new[] { "Cmdlet.ShouldContinue", "PSHostUserInterface.ReadLine" },
                PromptFinder.PromptingCalls(typeof(CheckerTests).Assembly.Location));
        }

        [Fact]
        public void OffThreadCallFinder_FindsSessionStateReachedFromEngineDelegates_ButNotPipelineThreadCalls()
        {
            var findings = OffThreadCallFinder.Find(typeof(CheckerTests).Assembly.Location)
                .Where(f => f.StartsWith(nameof(GetSampleOffThreadCommand), System.StringComparison.Ordinal)).ToList();
            const string Reaches = "GetSampleOffThreadCommand.ProcessRecord: the delegate passed to RunEngine reaches ";
            Assert.Contains(Reaches + "PSCmdlet.get_SessionState", findings);
            Assert.Contains(Reaches + "SessionState.get_Path", findings);
            Assert.Contains(Reaches + "PathIntrinsics.get_CurrentFileSystemLocation", findings);
            // Through an async lambda's state machine and a helper method of the cmdlet.
            Assert.Contains(findings, f => f.StartsWith(Reaches + "PSCmdlet.GetUnresolvedProviderPathFromPSPath (via GetSampleOffThreadCommand+", System.StringComparison.Ordinal)
                && f.EndsWith(".MoveNext, GetSampleOffThreadCommand.Resolve)", System.StringComparison.Ordinal));
            // WriteVerbose inside InvokeOnPipelineThread runs on the pipeline thread; resolving before RunEngine is fine.
            Assert.Equal(4, findings.Count);
        }

        [Fact]
        public void PesterConventions_ReportBareErrorIdsAndFixedModulePaths()
        {
            var problems = PesterConventions.Problems("""
                BeforeAll {
                    Import-Module (Join-Path $PSScriptRoot '../../out/RedisRecovery') -Force
                    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
                }
                It 'a' { { Get-Thing -ErrorAction Stop } | Should -Throw -ErrorId 'ThingMissing' }
                It 'b' { { Get-Thing -ErrorAction Stop } | Should -Throw -ErrorId "ThingMissing*" }
                It 'c' { $e[0].FullyQualifiedErrorId | Should -BeLike 'ThingMissing*' }
                It 'd' { { Get-Thing -ErrorAction Stop } | Should -Throw -ErrorId 'ThingMissing,*' }
                """);
            Assert.Equal(
                new[]
                {
                    "line 2: imports the module from a fixed path; use Import-Module (Get-RedisRecoveryModulePath) from TestRedisServer.psm1",
                    "line 5: Should -Throw -ErrorId 'ThingMissing' must be 'ThingMissing,*' (FullyQualifiedErrorId is 'Id,Namespace.CmdletType')",
                    "line 6: Should -Throw -ErrorId 'ThingMissing*' must be 'ThingMissing,*' (FullyQualifiedErrorId is 'Id,Namespace.CmdletType')",
                    "line 7: FullyQualifiedErrorId | Should -BeLike 'ThingMissing*' must be 'ThingMissing,*' (FullyQualifiedErrorId is 'Id,Namespace.CmdletType')",
                },
                problems);
            Assert.Empty(PesterConventions.Problems("""
                Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
                Import-Module (Get-RedisRecoveryModulePath) -Force
                { Get-Thing } | Should -Throw -ErrorId 'ThingMissing,*'
                """));
        }

        private static System.Type SampleType(string name) =>
            name.StartsWith('[')
                ? SampleCmdlets.Inspection.FrameworkType(name.Trim('[', ']'))
                : SampleCmdlets.Type(name);
    }
}
