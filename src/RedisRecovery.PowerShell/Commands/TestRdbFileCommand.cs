using System;
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
    public sealed class TestRdbFileCommand : FileInputCmdlet
    {
        /// <summary>Return only $true or $false per file, without error records.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>Also compute the DEBUG DIGEST a Redis 7.0 would report after loading the file (Digest, DigestUnknownReason).</summary>
        [Parameter]
        public SwitchParameter Digest { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var file in ResolveInputPaths(File.Exists))
            {
                RdbFileCheck check;
                try
                {
                    check = RunEngine(hooks => RdbFileChecker.CheckFileAsync(file, new RdbCheckOptions { Digest = Digest }, hooks.Progress, hooks.Cancellation));
                }
                catch (Exception unreadable) when (unreadable is IOException or UnauthorizedAccessException)
                {
                    // One file that cannot be opened or read must not stop the check of the others.
                    WriteError(ToErrorRecord(unreadable, file));
                    if (Quiet)
                    {
                        WriteObject(false);
                    }
                    continue;
                }
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
    }
}
