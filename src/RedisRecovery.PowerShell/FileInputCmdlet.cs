using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace RedisRecovery.PowerShell
{
    /// <summary>
    /// A cmdlet that reads files named by -Path (wildcards, position 0, pipeline) or -LiteralPath (FullName/PSPath
    /// of Get-ChildItem output), resolved the way the built-in cmdlets do.
    /// </summary>
    public abstract class FileInputCmdlet : RedisRecoveryCmdlet
    {
        public const string PathParameterSet = nameof(Path);
        public const string LiteralPathParameterSet = nameof(LiteralPath);

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = null!;

        [Parameter(Mandatory = true, ParameterSetName = LiteralPathParameterSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = null!;

        /// <summary>
        /// The file-system paths given, keeping those <paramref name="accept"/> takes (e.g. existing files); a path
        /// that matches nothing, or is not on the file system, is a non-terminating error.
        /// </summary>
        protected IEnumerable<string> ResolveInputPaths(Func<string, bool> accept)
        {
            if (ParameterSetName == LiteralPathParameterSet)
            {
                foreach (var literal in LiteralPath)
                {
                    var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(literal);
                    if (accept(path))
                    {
                        yield return path;
                    }
                    else
                    {
                        WriteError(NotFound(literal));
                    }
                }
                yield break;
            }
            foreach (var pattern in Path)
            {
                ProviderInfo provider;
                IEnumerable<string> matches;
                try
                {
                    matches = GetResolvedProviderPathFromPSPath(pattern, out provider);
                }
                catch (ItemNotFoundException)
                {
                    WriteError(NotFound(pattern));
                    continue;
                }
                if (provider.Name != "FileSystem")
                {
                    WriteError(new ErrorRecord(new PSArgumentException($"'{pattern}' is not a file system path."), "PathNotFileSystem", ErrorCategory.InvalidArgument, pattern));
                    continue;
                }
                var literal = !WildcardPattern.ContainsWildcardCharacters(pattern);
                foreach (var match in matches)
                {
                    if (accept(match))
                    {
                        yield return match;
                    }
                    else if (literal)
                    {
                        // Named exactly (not matched by a wildcard): a directory where a file is wanted is an error, not silence.
                        WriteError(NotFound(pattern));
                    }
                }
            }
        }

        private static ErrorRecord NotFound(string path) =>
            new(new FileNotFoundException($"Cannot find the file '{path}'.", path), "FileNotFound", ErrorCategory.ObjectNotFound, path);
    }
}
