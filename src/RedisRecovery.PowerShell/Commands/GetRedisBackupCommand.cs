using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using RedisRecovery.Backup;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>Lists the backups in a directory from their sidecars, newest first, with a status for broken ones.</summary>
    [Cmdlet(VerbsCommon.Get, "RedisBackup")]
    [OutputType(typeof(RdbBackup))]
    public sealed class GetRedisBackupCommand : RedisRecoveryCmdlet
    {
        /// <summary>The backup directory; the current location when omitted.</summary>
        [Parameter(Position = 0)]
        public string? Path { get; set; }

        [Parameter]
        [SupportsWildcards]
        public string[]? Name { get; set; }

        /// <summary>Only the newest backup with status Ok of each name.</summary>
        [Parameter]
        public SwitchParameter Latest { get; set; }

        /// <summary>Only backups taken at or after this time (a time without zone is local time).</summary>
        [Parameter]
        public System.DateTime? Since { get; set; }

        protected override void ProcessRecord()
        {
            var patterns = Name?.Select(name => WildcardPattern.Get(name, WildcardOptions.IgnoreCase)).ToList();
            var query = new BackupQuery
            {
                NameFilter = patterns == null ? null : name => patterns.Any(pattern => pattern.IsMatch(name)),
                SinceUtc = Since?.ToUniversalTime(),
                LatestOnly = Latest,
            };
            IReadOnlyList<RdbBackup> backups = new RdbBackup[0];
            try
            {
                var catalog = new BackupCatalog(BackupStoreLocation.Open(this, Path));
                backups = RunEngine(hooks => catalog.ListAsync(query, hooks.Cancellation));
            }
            catch (System.Exception ex) when (!(ex is PipelineStoppedException))
            {
                ThrowTerminatingError(ToErrorRecord(ex, Path));
            }
            WriteObject(backups, enumerateCollection: true);

            // As with Get-Item: a name without wildcards that matches nothing is an error, so a scheduled check
            // notices a series that stopped producing backups instead of silently getting nothing.
            foreach (var name in Name?.Where(name => !WildcardPattern.ContainsWildcardCharacters(name)) ?? Enumerable.Empty<string>())
            {
                if (!backups.Any(backup => string.Equals(backup.Name, name, System.StringComparison.OrdinalIgnoreCase)))
                {
                    var error = new RedisRecoveryException("BackupNotFound", FailureKind.NotFound,
                        Latest ? $"No valid backup named '{name}' was found." : $"No backup named '{name}' was found.");
                    WriteError(ToErrorRecord(error, name));
                }
            }
        }
    }
}
