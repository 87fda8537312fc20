using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>Reads the hand-written assets shipped with the module: format files and help pages.</summary>
    internal static class ModuleAssets
    {
        /// <summary>The type names that have a view (View/ViewSelectedBy/TypeName) in a format file.</summary>
        public static IEnumerable<string> ViewedTypeNames(string formatFileText) =>
            XDocument.Parse(formatFileText)
                .Descendants("View").Elements("ViewSelectedBy").Elements("TypeName")
                .Select(name => name.Value.Trim());

        /// <summary>
        /// The number of ```powershell blocks in the Examples section of a help page (the heading "Examples" at any
        /// level, up to the next heading of the same or a higher level; lines inside code blocks are not headings).
        /// </summary>
        public static int ExampleCount(string markdown)
        {
            int? examplesLevel = null;
            var inFence = false;
            var count = 0;
            foreach (var line in markdown.Split('\n').Select(l => l.TrimEnd('\r')))
            {
                if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
                {
                    if (!inFence && examplesLevel != null && line.Trim().Equals("```powershell", StringComparison.OrdinalIgnoreCase))
                    {
                        count++;
                    }
                    inFence = !inFence;
                    continue;
                }
                var heading = inFence ? Match.Empty : Regex.Match(line, @"^(?<level>#{1,6})\s+(?<title>.*?)\s*#*\s*$");
                if (!heading.Success)
                {
                    continue;
                }
                var level = heading.Groups["level"].Length;
                if (examplesLevel != null && level <= examplesLevel)
                {
                    break;
                }
                if (examplesLevel == null && heading.Groups["title"].Value.Equals("Examples", StringComparison.OrdinalIgnoreCase))
                {
                    examplesLevel = level;
                }
            }
            return count;
        }

        /// <summary>The parameters a help page never mentions as -Name.</summary>
        public static IEnumerable<string> UndocumentedParameters(string markdown, CmdletMetadata cmdlet) =>
            cmdlet.Parameters.Select(p => p.Name)
                .Where(name => !Regex.IsMatch(markdown, $@"(?<![\w-])-{Regex.Escape(name)}\b", RegexOptions.IgnoreCase));
    }
}
