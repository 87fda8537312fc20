using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using RedisRecovery.Rdb;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>
    /// Checks RDB files like redis-check-rdb, but returns an object per file. A damaged file is a non-terminating
    /// error and an object with IsValid = $false, so scripts can both catch it and filter on it.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "RdbFile", DefaultParameterSetName = PathParameterSet)]
    [OutputType(typeof(RdbFileCheck))]
    [OutputType(typeof(bool))]
    public sealed class TestRdbFileCommand : RedisRecoveryCmdlet
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

        /// <summary>Return only $true or $false per file, without error records.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var file in ResolveFiles())
            {
                var check = RunEngine(hooks => RdbFileChecker.CheckFileAsync(file, options: null, hooks.Progress, hooks.Cancellation));
                if (Quiet)
                {
                    WriteObject(check.IsValid);
                    continue;
                }
                if (check.Exception != null)
                {
                    WriteError(ToErrorRecord(check.Exception, file));
                }
                WriteObject(check);
            }
        }

        private IEnumerable<string> ResolveFiles()
        {
            if (ParameterSetName == LiteralPathParameterSet)
            {
                foreach (var literal in LiteralPath)
                {
                    var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(literal);
                    if (File.Exists(file))
                    {
                        yield return file;
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
                IEnumerable<string> files;
                try
                {
                    files = GetResolvedProviderPathFromPSPath(pattern, out provider);
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
                foreach (var file in files)
                {
                    if (File.Exists(file))
                    {
                        yield return file;
                    }
                }
            }
        }

        private static ErrorRecord NotFound(string path) =>
            new ErrorRecord(new FileNotFoundException($"Cannot find the file '{path}'.", path), "FileNotFound", ErrorCategory.ObjectNotFound, path);
    }
}
