using System;
using System.IO;
using System.Management.Automation;
using RedisRecovery.Aof;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>
    /// Checks AOFs (a single file, or a Redis 7 multi-part directory or its manifest) as redis-check-aof does, and
    /// returns an object per AOF. One Redis refuses to load (Corrupt, ManifestInvalid) is also a non-terminating
    /// error; a truncated tail, which Redis loads with aof-load-truncated, is a warning.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "AofFile", DefaultParameterSetName = PathParameterSet)]
    [OutputType(typeof(AofCheckResult))]
    public sealed class TestAofFileCommand : RedisRecoveryCmdlet
    {
        public const string PathParameterSet = nameof(Path);
        public const string LiteralPathParameterSet = nameof(LiteralPath);

        /// <summary>AOF files, multi-part directories or manifests; wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = null!;

        [Parameter(Mandatory = true, ParameterSetName = LiteralPathParameterSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = null!;

        protected override void ProcessRecord()
        {
            var literal = ParameterSetName == LiteralPathParameterSet;
            foreach (var aof in FileSystemPaths.Resolve(this, literal ? null : Path, literal ? LiteralPath : null, FileSystemPaths.IsFileOrDirectory))
            {
                AofCheckResult result;
                try
                {
                    result = RunEngine(hooks => AofChecker.CheckAsync(aof, hooks.Progress, hooks.Cancellation));
                }
                catch (Exception failure) when (failure is RedisRecoveryException or IOException or UnauthorizedAccessException)
                {
                    WriteError(ToErrorRecord(failure, aof));
                    continue;
                }
                if (result.ToException() is RedisRecoveryException damage)
                {
                    WriteError(ToErrorRecord(damage, aof));
                }
                else if (result.Status == AofStatus.Truncated)
                {
                    WriteWarning($"{aof}: {result.ErrorFile} ends with an incomplete command at byte {result.ErrorOffset}; Repair-AofFile cuts it at byte {result.ValidUpToOffset}.");
                }
                foreach (var unlisted in result.UnlistedFiles)
                {
                    WriteWarning($"{aof}: '{unlisted}' is not listed in the manifest; Redis ignores it.");
                }
                WriteObject(result);
            }
        }
    }
}
