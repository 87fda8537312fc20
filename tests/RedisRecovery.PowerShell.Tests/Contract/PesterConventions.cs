using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>
    /// Mistakes in Pester suites that no run on this machine can reveal (there is no PowerShell here): an error id
    /// matched without its ",Namespace.CmdletType" tail, and a module imported from a hard-coded path instead of the
    /// one Invoke-PesterSuite.ps1 -ModulePath chose.
    /// </summary>
    internal static class PesterConventions
    {
        /// <summary>The form of a FullyQualifiedErrorId pattern: the id, a comma, any cmdlet type ("X,*").</summary>
        private static readonly Regex IdPattern = new(@"^[A-Za-z][A-Za-z0-9.]*,\*$");

        private static readonly Regex ShouldThrowErrorId = new(@"-ErrorId\s+(?<quote>['""])(?<id>[^'""]*)\k<quote>");

        private static readonly Regex ErrorIdLike = new(@"FullyQualifiedErrorId\s*\|\s*Should\s+-BeLike\s+(?<quote>['""])(?<id>[^'""]*)\k<quote>", RegexOptions.IgnoreCase);

        private static readonly Regex HardCodedModuleImport = new(@"Import-Module\b[^\r\n]*(out[/\\]RedisRecovery|RedisRecovery\.psd1)", RegexOptions.IgnoreCase);

        /// <summary>"line N: what is wrong" for each mistake in one suite's text.</summary>
        public static IReadOnlyList<string> Problems(string text)
        {
            var problems = new List<string>();
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                foreach (Match match in ShouldThrowErrorId.Matches(lines[i]))
                {
                    CheckId(match, "Should -Throw -ErrorId", i + 1, problems);
                }
                foreach (Match match in ErrorIdLike.Matches(lines[i]))
                {
                    CheckId(match, "FullyQualifiedErrorId | Should -BeLike", i + 1, problems);
                }
                if (HardCodedModuleImport.IsMatch(lines[i]))
                {
                    problems.Add($"line {i + 1}: imports the module from a fixed path; use Import-Module (Get-RedisRecoveryModulePath) from TestRedisServer.psm1");
                }
            }
            return problems;
        }

        private static void CheckId(Match match, string usage, int line, List<string> problems)
        {
            var id = match.Groups["id"].Value;
            if (!IdPattern.IsMatch(id))
            {
                var bare = id.TrimEnd('*').TrimEnd(',');
                problems.Add($"line {line}: {usage} '{id}' must be '{bare},*' (FullyQualifiedErrorId is 'Id,Namespace.CmdletType')");
            }
        }
    }
}
