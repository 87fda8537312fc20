using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using RedisRecovery.Backup;
using RedisRecovery.Storage;

namespace RedisRecovery.Tests.Backup
{
    /// <summary>A real temporary backup directory, removed on dispose, with helpers that lay out backups by hand.</summary>
    internal sealed class BackupTestDirectory : IDisposable
    {
        public BackupTestDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rr-backup-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
            Store = new LocalDirectoryStore(Path);
        }

        public string Path { get; }

        public LocalDirectoryStore Store { get; }

        public BackupCatalog Catalog => new BackupCatalog(Store);

        public static DateTime Utc(string text) =>
            DateTime.ParseExact(text, new[] { "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss" }, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

        /// <summary>Writes a backup file and its sidecar directly (not through the writer); returns the file name.</summary>
        public string AddBackup(string name, DateTime createdUtc, byte[]? content = null)
        {
            content ??= Encoding.ASCII.GetBytes("REDIS0011 backup of " + name + " at " + createdUtc.ToString("O", CultureInfo.InvariantCulture));
            var fileName = BackupFileName.For(name, createdUtc);
            File.WriteAllBytes(FullPath(fileName), content);
            var sidecar = new BackupSidecar
            {
                Name = name,
                Endpoint = "127.0.0.1:6379",
                Method = BackupMethod.Replication,
                CreatedUtc = createdUtc,
                SizeBytes = content.Length,
                Sha256 = Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant(),
                RdbVersion = 11,
                RedisVersion = "7.0.15",
                KeysPerDatabase = new Dictionary<int, long> { [0] = 3 },
                PointInTime = true,
            };
            File.WriteAllBytes(FullPath(BackupFileName.SidecarFor(fileName)), sidecar.ToUtf8Json());
            return fileName;
        }

        public string FullPath(string fileName) => System.IO.Path.Combine(Path, fileName);

        /// <summary>Every file name in the directory, hidden staging files included, sorted.</summary>
        public IReadOnlyList<string> FileNames() =>
            Directory.EnumerateFiles(Path).Select(System.IO.Path.GetFileName).Select(name => name!).OrderBy(name => name, StringComparer.Ordinal).ToList();

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
