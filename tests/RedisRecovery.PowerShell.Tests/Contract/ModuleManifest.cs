using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>
    /// The string-list entries of a module manifest (.psd1), read as text: enough PowerShell data syntax for
    /// <c>Key = @('a', 'b')</c>, <c>Key = 'a', 'b'</c> and comments, without a PowerShell to evaluate it.
    /// </summary>
    internal sealed class ModuleManifest
    {
        private static readonly Regex QuotedString = new(@"'(?<text>(?:[^']|'')*)'|""(?<text>[^""]*)""", RegexOptions.Compiled);
        private readonly string _code;

        private ModuleManifest(string code)
        {
            _code = code;
        }

        public static ModuleManifest Parse(string text) => new(WithoutComments(text));

        /// <summary>The strings a key lists, or null when the manifest does not set that key to strings.</summary>
        public IReadOnlyList<string>? StringList(string key)
        {
            var quoted = @"(?:'(?:[^']|'')*'|""[^""]*"")";
            var assignment = new Regex(
                $@"(?im)^\s*{Regex.Escape(key)}\s*=\s*(?:@\((?<items>[^)]*)\)|(?<items>{quoted}(?:\s*,\s*{quoted})*))");
            var match = assignment.Match(_code);
            if (!match.Success)
            {
                return null;
            }
            return QuotedString.Matches(match.Groups["items"].Value)
                .Select(m => m.Groups["text"].Value.Replace("''", "'"))
                .ToList();
        }

        /// <summary>Removes line (#) and block (&lt;# #&gt;) comments outside quoted strings.</summary>
        private static string WithoutComments(string text)
        {
            var code = new StringBuilder(text.Length);
            char? quote = null;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (quote != null)
                {
                    quote = c == quote ? null : quote;
                    code.Append(c);
                }
                else if (c == '<' && i + 1 < text.Length && text[i + 1] == '#')
                {
                    var end = text.IndexOf("#>", i + 2, StringComparison.Ordinal);
                    i = end < 0 ? text.Length : end + 1;
                }
                else if (c == '#')
                {
                    var end = text.IndexOf('\n', i);
                    i = (end < 0 ? text.Length : end) - 1;
                }
                else
                {
                    quote = c is '\'' or '"' ? c : null;
                    code.Append(c);
                }
            }
            return code.ToString();
        }
    }
}
