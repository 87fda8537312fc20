using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace RedisRecovery.PowerShell
{
    /// <summary>
    /// Resolves -Path (wildcards) and -LiteralPath to file-system paths the way the built-in cmdlets do, writing a
    /// non-terminating error for each one that matches nothing or is not on the file system.
    /// </summary>
    internal static class FileSystemPaths
    {
        /// <param name="accept">Which existing items qualify (files only, or files and directories).</param>
        public static IEnumerable<string> Resolve(PSCmdlet cmdlet, string[]? wildcardPaths, string[]? literalPaths, System.Func<string, bool> accept)
        {
            foreach (var literal in literalPaths ?? System.Array.Empty<string>())
            {
                var path = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(literal);
                if (accept(path))
                {
                    yield return path;
                }
                else
                {
                    cmdlet.WriteError(NotFound(literal));
                }
            }
            foreach (var pattern in wildcardPaths ?? System.Array.Empty<string>())
            {
                ProviderInfo provider;
                IEnumerable<string> matches;
                try
                {
                    matches = cmdlet.GetResolvedProviderPathFromPSPath(pattern, out provider);
                }
                catch (ItemNotFoundException)
                {
                    cmdlet.WriteError(NotFound(pattern));
                    continue;
                }
                if (provider.Name != "FileSystem")
                {
                    cmdlet.WriteError(new ErrorRecord(new PSArgumentException($"'{pattern}' is not a file system path."), "PathNotFileSystem", ErrorCategory.InvalidArgument, pattern));
                    continue;
                }
                foreach (var match in matches)
                {
                    if (accept(match))
                    {
                        yield return match;
                    }
                }
            }
        }

        public static bool IsFileOrDirectory(string path) => File.Exists(path) || Directory.Exists(path);

        private static ErrorRecord NotFound(string path) =>
            new(new FileNotFoundException($"Cannot find '{path}'.", path), "PathNotFound", ErrorCategory.ObjectNotFound, path);
    }
}
