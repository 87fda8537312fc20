using System;
using System.Globalization;
using System.Text;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// The sortable naming scheme of backups, <c>&lt;name&gt;_&lt;yyyyMMddTHHmmssZ&gt;.rdb</c>, and of their sidecars
    /// (<c>&lt;file&gt;.json</c>). The name is the backup series (by default the server's host-port).
    /// </summary>
    public static class BackupFileName
    {
        public const string Extension = ".rdb";
        public const string SidecarExtension = ".json";
        public const int MaxNameLength = 128;
        private const string StampFormat = "yyyyMMdd'T'HHmmss'Z'";
        private const int StampLength = 16;

        /// <summary>The file name of the backup of series <paramref name="name"/> taken at <paramref name="createdUtc"/> (to the second).</summary>
        public static string For(string name, DateTime createdUtc)
        {
            ValidateName(name);
            return name + "_" + ToUtc(createdUtc).ToString(StampFormat, CultureInfo.InvariantCulture) + Extension;
        }

        public static string SidecarFor(string backupFileName) => backupFileName + SidecarExtension;

        /// <summary>Splits a backup file name into series name and UTC time; false for any other file.</summary>
        public static bool TryParse(string fileName, out string name, out DateTime createdUtc)
        {
            name = string.Empty;
            createdUtc = default;
            var stampStart = fileName.Length - Extension.Length - StampLength;
            if (!fileName.EndsWith(Extension, StringComparison.Ordinal) || stampStart < 2 || fileName[stampStart - 1] != '_')
            {
                return false;
            }
            var candidate = fileName.Substring(0, stampStart - 1);
            if (!IsValidName(candidate) ||
                !DateTime.TryParseExact(fileName.Substring(stampStart, StampLength), StampFormat, CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var stamp))
            {
                return false;
            }
            name = candidate;
            createdUtc = DateTime.SpecifyKind(stamp, DateTimeKind.Utc);
            return true;
        }

        /// <summary>True when the file name is a sidecar of a backup file name; gives that backup file name.</summary>
        public static bool TryParseSidecar(string fileName, out string backupFileName)
        {
            backupFileName = string.Empty;
            if (!fileName.EndsWith(Extension + SidecarExtension, StringComparison.Ordinal))
            {
                return false;
            }
            var candidate = fileName.Substring(0, fileName.Length - SidecarExtension.Length);
            if (!TryParse(candidate, out _, out _))
            {
                return false;
            }
            backupFileName = candidate;
            return true;
        }

        /// <summary>
        /// Letters, digits, '.', '-' and '_', starting with a letter or digit: safe as a file name and an S3 key on
        /// every platform, and never a path.
        /// </summary>
        public static bool IsValidName(string? name)
        {
            if (string.IsNullOrEmpty(name) || name!.Length > MaxNameLength || !char.IsLetterOrDigit(name[0]) || name[0] > 127)
            {
                return false;
            }
            foreach (var c in name)
            {
                if (!IsNameCharacter(c))
                {
                    return false;
                }
            }
            return true;
        }

        public static void ValidateName(string? name)
        {
            if (!IsValidName(name))
            {
                throw new RedisRecoveryException("InvalidBackupName", FailureKind.InvalidArgument,
                    $"'{name}' is not a valid backup name: use 1-{MaxNameLength} ASCII letters, digits, '.', '-' or '_', starting with a letter or digit (no path separators).")
                {
                    Target = name,
                };
            }
        }

        /// <summary>The default series name for a server: host-port, with characters a name cannot hold replaced by '-'.</summary>
        public static string DefaultName(string endpoint)
        {
            var hostPort = BackupEndpoint.ToHostPort(endpoint);
            var separator = hostPort.LastIndexOf(':');
            var host = hostPort.Substring(0, separator).Trim('[', ']');
            var builder = new StringBuilder(hostPort.Length);
            foreach (var c in host)
            {
                builder.Append(IsNameCharacter(c) ? c : '-');
            }
            var name = builder.ToString().Trim('-', '.', '_') + "-" + hostPort.Substring(separator + 1);
            return IsValidName(name) ? name : "redis-" + hostPort.Substring(separator + 1);
        }

        private static bool IsNameCharacter(char c) =>
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';

        private static DateTime ToUtc(DateTime time) =>
            time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : time.ToUniversalTime();
    }
}
