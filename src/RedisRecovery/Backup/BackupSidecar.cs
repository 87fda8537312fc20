using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// The metadata file beside a backup (<c>&lt;file&gt;.json</c>): what it is a copy of, how and when it was taken,
    /// and the facts (size, SHA-256, key counts) that let it be checked later without trusting the file itself.
    /// The endpoint is host:port only; the schema is versioned so older readers refuse what they cannot read.
    /// </summary>
    public sealed class BackupSidecar
    {
        public const int CurrentSchemaVersion = 1;

        /// <summary>Far above any real sidecar (16 databases of counts); a bigger file is not read into memory.</summary>
        public const int MaxSidecarBytes = 1 << 20;

        private DateTime _createdUtc;

        private static readonly JsonSerializerOptions JsonOptions = new JsonSerializerOptions
        {
            WriteIndented = true,
            Converters = { new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false) },
        };

        [JsonPropertyName("schemaVersion")]
        [JsonRequired]
        public int SchemaVersion { get; init; } = CurrentSchemaVersion;

        /// <summary>The backup series (the part of the file name before the time stamp).</summary>
        [JsonPropertyName("name")]
        [JsonRequired]
        public string Name { get; init; } = string.Empty;

        /// <summary>host:port of the source server; never credentials.</summary>
        [JsonPropertyName("endpoint")]
        public string? Endpoint { get; init; }

        [JsonPropertyName("method")]
        [JsonRequired]
        public BackupMethod Method { get; init; }

        /// <summary>When the backup was taken, always UTC (a time written with an offset is converted).</summary>
        [JsonPropertyName("createdUtc")]
        [JsonRequired]
        public DateTime CreatedUtc
        {
            get => _createdUtc;
            init => _createdUtc = value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(value, DateTimeKind.Utc) : value.ToUniversalTime();
        }

        /// <summary>Size of the stored file in bytes.</summary>
        [JsonPropertyName("sizeBytes")]
        [JsonRequired]
        public long SizeBytes { get; init; }

        /// <summary>Lowercase hex SHA-256 of the stored file's bytes.</summary>
        [JsonPropertyName("sha256")]
        [JsonRequired]
        public string Sha256 { get; init; } = string.Empty;

        [JsonPropertyName("rdbVersion")]
        public int? RdbVersion { get; init; }

        [JsonPropertyName("redisVersion")]
        public string? RedisVersion { get; init; }

        /// <summary>Keys in each non-empty database, by database number.</summary>
        [JsonPropertyName("keysPerDatabase")]
        public Dictionary<int, long> KeysPerDatabase { get; init; } = new Dictionary<int, long>();

        /// <summary>False for a logical (SCAN + DUMP) copy, whose keys were read at different moments.</summary>
        [JsonPropertyName("pointInTime")]
        public bool PointInTime { get; init; }

        /// <summary>True for an OpenPGP-encrypted backup: size and sha256 then describe the ciphertext (the stored file).</summary>
        [JsonPropertyName("encrypted")]
        public bool Encrypted { get; init; }

        /// <summary>SHA-256 of the RDB inside an encrypted backup, to verify what decryption yields.</summary>
        [JsonPropertyName("plaintextSha256")]
        public string? PlaintextSha256 { get; init; }

        [JsonPropertyName("ciphertextSha256")]
        public string? CiphertextSha256 { get; init; }

        /// <summary>The module and version that wrote it, for diagnosing old backups.</summary>
        [JsonPropertyName("createdBy")]
        public string? CreatedBy { get; init; }

        public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);

        /// <summary>Parses and validates a sidecar; a RedisRecoveryException (BackupSidecarInvalid) says what is wrong.</summary>
        public static BackupSidecar Parse(byte[] utf8Json, string source) =>
            TryParse(utf8Json, out var sidecar, out var problem)
                ? sidecar!
                : throw new RedisRecoveryException("BackupSidecarInvalid", FailureKind.CorruptData, $"{source}: {problem}") { Target = source };

        public static bool TryParse(byte[] utf8Json, out BackupSidecar? sidecar, out string problem)
        {
            sidecar = null;
            try
            {
                sidecar = JsonSerializer.Deserialize<BackupSidecar>(utf8Json, JsonOptions);
            }
            catch (JsonException ex)
            {
                // The JSON reader's message names the line and byte position and never the values.
                problem = "not a valid sidecar: " + ex.Message;
                return false;
            }
            if (sidecar == null)
            {
                problem = "not a valid sidecar: the JSON is null.";
                return false;
            }
            problem = sidecar.FindProblem() ?? string.Empty;
            if (problem.Length > 0)
            {
                sidecar = null;
                return false;
            }
            return true;
        }

        public static async Task<BackupSidecar> ReadAsync(IBackupStore store, string sidecarName, CancellationToken cancellationToken) =>
            Parse(await ReadBytesAsync(store, sidecarName, cancellationToken).ConfigureAwait(false), store.Location + "/" + sidecarName);

        /// <summary>Stores the sidecar atomically under <paramref name="sidecarName"/>, replacing any earlier one.</summary>
        public async Task WriteAsync(IBackupStore store, string sidecarName, CancellationToken cancellationToken)
        {
            using var content = new MemoryStream(ToUtf8Json(), writable: false);
            await store.PutAsync(sidecarName, content, bytesWritten: null, cancellationToken).ConfigureAwait(false);
        }

        internal static async Task<byte[]> ReadBytesAsync(IBackupStore store, string sidecarName, CancellationToken cancellationToken)
        {
            using var stream = await store.OpenReadAsync(sidecarName, ReadIntegrity.StoreChecks, cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            var chunk = new byte[8192];
            int read;
            while ((read = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxSidecarBytes)
                {
                    throw new RedisRecoveryException("BackupSidecarInvalid", FailureKind.CorruptData,
                        $"{store.Location}/{sidecarName}: larger than {MaxSidecarBytes} bytes, not a sidecar.") { Target = sidecarName };
                }
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }

        private string? FindProblem()
        {
            if (SchemaVersion > CurrentSchemaVersion)
            {
                return $"schema version {SchemaVersion} is newer than this module reads ({CurrentSchemaVersion}); update RedisRecovery.";
            }
            if (SchemaVersion < 1)
            {
                return "schemaVersion is missing or invalid.";
            }
            if (!BackupFileName.IsValidName(Name))
            {
                return "name is missing or invalid.";
            }
            if (SizeBytes < 0)
            {
                return "sizeBytes is negative.";
            }
            if (!Sha256Hex.IsValid(Sha256))
            {
                return "sha256 is not 64 lowercase hex digits.";
            }
            if (Encrypted && (!Sha256Hex.IsValid(PlaintextSha256) || (CiphertextSha256 != null && CiphertextSha256 != Sha256)))
            {
                return "an encrypted backup needs plaintextSha256 (64 lowercase hex digits) and, when given, a ciphertextSha256 equal to sha256.";
            }
            if (KeysPerDatabase == null || KeysPerDatabase.Any(pair => pair.Key < 0 || pair.Value < 0))
            {
                return "keysPerDatabase has a negative database number or count.";
            }
            return null;
        }
    }
}
