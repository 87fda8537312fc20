using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
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
        /// What PowerShell would reject when it loads a format file (a view without a name, a type or exactly one
        /// control; a table whose rows and headers differ in count), and what it would silently show as an empty
        /// column: a PropertyName, or a <c>$_.Name</c> in a script block, that the viewed type does not have. Types
        /// that <paramref name="findType"/> does not know (not ours) are not checked for properties.
        /// </summary>
        public static IEnumerable<string> ViewProblems(string formatFileText, Func<string, Type?> findType)
        {
            foreach (var view in XDocument.Parse(formatFileText).Descendants("View"))
            {
                var name = view.Element("Name")?.Value.Trim();
                if (string.IsNullOrEmpty(name))
                {
                    yield return "a <View> has no <Name>";
                    name = "(unnamed)";
                }
                var typeNames = view.Elements("ViewSelectedBy").Elements().Where(e => e.Name.LocalName is "TypeName" or "SelectionSetName")
                    .Select(e => e.Value.Trim()).ToList();
                if (typeNames.Count == 0)
                {
                    yield return $"view {name} selects no type (ViewSelectedBy/TypeName)";
                }
                var controls = view.Elements().Count(e => e.Name.LocalName is "TableControl" or "ListControl" or "WideControl" or "CustomControl");
                if (controls != 1)
                {
                    yield return $"view {name} has {controls} controls; exactly one of TableControl, ListControl, WideControl, CustomControl is needed";
                }
                var headers = view.Elements("TableControl").Elements("TableHeaders").Elements("TableColumnHeader").Count();
                foreach (var row in view.Elements("TableControl").Elements("TableRowEntries").Elements("TableRowEntry"))
                {
                    var items = row.Elements("TableColumnItems").Elements("TableColumnItem").Count();
                    if (headers > 0 && items != headers)
                    {
                        yield return $"view {name} has {headers} column headers but a row of {items} items";
                    }
                }
                var referenced = view.Descendants("PropertyName").Select(p => p.Value.Trim())
                    .Concat(view.Descendants("ScriptBlock").SelectMany(b => Regex.Matches(b.Value, @"\$(?:_|PSItem)\.(\w+)(?!\s*\()").Select(m => m.Groups[1].Value)))
                    .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                foreach (var type in typeNames.Select(findType).OfType<Type>())
                {
                    var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name)
                        .ToHashSet(StringComparer.OrdinalIgnoreCase);
                    foreach (var missing in referenced.Where(p => !properties.Contains(p)))
                    {
                        yield return $"view {name} shows {missing}, which {type.FullName} does not have";
                    }
                }
            }
        }

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
