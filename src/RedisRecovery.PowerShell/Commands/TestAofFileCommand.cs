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
    public sealed class TestAofFileCommand : FileInputCmdlet
    {
        protected override void ProcessRecord()
        {
            foreach (var aof in ResolveInputPaths(path => File.Exists(path) || Directory.Exists(path)))
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
