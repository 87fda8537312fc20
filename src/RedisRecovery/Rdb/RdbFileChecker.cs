using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>What a check of one RDB found: the facts redis-check-rdb prints, as an object.</summary>
    public sealed class RdbFileCheck
    {
        public string Path { get; init; } = "";

        public bool IsValid { get; init; }

        /// <summary>"REDIS" or "VALKEY"; null when the header could not be read.</summary>
        public string? Signature { get; init; }

        public int? RdbVersion { get; init; }

        /// <summary>The server version that wrote the file (aux redis-ver / valkey-ver).</summary>
        public string? RedisVersion { get; init; }

        public DateTimeOffset? CreatedUtc { get; init; }

        public long? UsedMemory { get; init; }

        public long Keys { get; init; }

        public long Expires { get; init; }

        /// <summary>Keys whose expiry lies before the check's clock (a server loading the file as master drops them).</summary>
        public long AlreadyExpired { get; init; }

        public IReadOnlyDictionary<int, long> KeysPerDatabase { get; init; } = new Dictionary<int, long>();

        /// <summary><see cref="AlreadyExpired"/> by database: what a server loading the file drops from each.</summary>
        public IReadOnlyDictionary<int, long> AlreadyExpiredPerDatabase { get; init; } = new Dictionary<int, long>();

        public IReadOnlyDictionary<RdbValueType, long> KeysPerType { get; init; } = new Dictionary<RdbValueType, long>();

        public IReadOnlyDictionary<RdbValueEncoding, long> KeysPerEncoding { get; init; } = new Dictionary<RdbValueEncoding, long>();

        public int FunctionLibraries { get; init; }

        public int ModuleAuxCount { get; init; }

        public RdbChecksumStatus ChecksumStatus { get; init; }

        /// <summary>Bytes of the RDB (header to checksum); null when it did not end properly.</summary>
        public long? RdbLength { get; init; }

        /// <summary>Bytes after the checksum (for a file); tools tolerate them, but they are not part of the RDB.</summary>
        public long? TrailingBytes { get; init; }

        public string? ErrorId { get; init; }

        public long? ErrorOffset { get; init; }

        public string? Error { get; init; }

        public string? LastGoodKey { get; init; }

        /// <summary>With <see cref="RdbCheckOptions.Digest"/>: what Redis 7.0's DEBUG DIGEST would answer once the file is
        /// loaded (keys already expired left out); null when not asked for or unknown.</summary>
        public string? Digest { get; internal set; }

        /// <summary>Why <see cref="Digest"/> is unknown although it was asked for.</summary>
        public string? DigestUnknownReason { get; internal set; }

        /// <summary>The failure itself, for callers that report it (the cmdlet's error record).</summary>
        public RedisRecoveryException? Exception { get; init; }
    }

    public sealed class RdbCheckOptions
    {
        /// <summary>The clock that decides which keys are already expired; the current time when null.</summary>
        public DateTimeOffset? Now { get; init; }

        public bool ValidateEncodings { get; init; } = true;

        /// <summary>Also compute the dataset's DEBUG DIGEST (a second pass over a valid file that decodes every value).</summary>
        public bool Digest { get; init; }

        public int BufferSize { get; init; } = 256 * 1024;
    }

    /// <summary>Checks whole RDB files the way redis-check-rdb does, at streaming speed and constant memory.</summary>
    public static class RdbFileChecker
    {
        private const long ProgressStep = 32L * 1024 * 1024;

        public static async Task<RdbFileCheck> CheckFileAsync(string path, RdbCheckOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            RdbFileCheck check;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                check = await CheckAsync(stream, path, options, progress, cancellationToken).ConfigureAwait(false);
            }
            if (options?.Digest == true)
            {
                if (check.IsValid)
                {
                    var digest = await RdbDigest.ComputeAsync(path, options.Now, progress, cancellationToken).ConfigureAwait(false);
                    check.Digest = digest.Digest;
                    check.DigestUnknownReason = digest.UnknownReason;
                }
                else
                {
                    check.DigestUnknownReason = "the file is damaged: a server would not load it";
                }
            }
            return check;
        }

        public static async Task<RdbFileCheck> CheckAsync(Stream stream, string sourceName, RdbCheckOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            options ??= new RdbCheckOptions();
            var nowMs = (options.Now ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
            // Counted in arrays (enums are small) and per database run: a dictionary lookup per key costs more than reading it.
            var perDatabase = new Dictionary<int, long>();
            var expiredPerDatabase = new Dictionary<int, long>();
            var perType = new long[Enum.GetValues(typeof(RdbValueType)).Length];
            var perEncoding = new long[Enum.GetValues(typeof(RdbValueEncoding)).Length];
            var database = -1;
            long databaseKeys = 0;
            long keys = 0, expires = 0, expired = 0;
            using var reader = new RdbReader(stream, new RdbReaderOptions
            {
                SourceName = sourceName,
                LeaveOpen = true,
                CaptureValues = false,
                VerifyChecksum = true,
                ValidateEncodings = options.ValidateEncodings,
                BufferSize = options.BufferSize,
            });
            var total = reader.KnownEnd;
            var nextReport = ProgressStep;
            RedisRecoveryException? failure = null;
            try
            {
                await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadEntryAsync(cancellationToken).ConfigureAwait(false) is RdbEntry entry)
                {
                    keys++;
                    if (entry.ExpiresAtMs is long expiry)
                    {
                        expires++;
                        if (expiry < nowMs)
                        {
                            expired++;
                            expiredPerDatabase.TryGetValue(entry.Database, out var expiredHere);
                            expiredPerDatabase[entry.Database] = expiredHere + 1;
                        }
                    }
                    if (entry.Database != database)
                    {
                        AddDatabaseRun(perDatabase, database, databaseKeys);
                        database = entry.Database;
                        databaseKeys = 0;
                    }
                    databaseKeys++;
                    perType[(int)entry.Type]++;
                    perEncoding[(int)entry.Encoding]++;
                    if (progress != null && reader.Position >= nextReport)
                    {
                        nextReport = reader.Position + ProgressStep;
                        progress.Report(new OperationProgress("Checking RDB file", $"{sourceName}: {keys} keys", reader.Position, total));
                    }
                }
            }
            catch (CorruptDataException corrupt)
            {
                failure = corrupt;
            }
            catch (RdbFormatNotSupportedException unsupported)
            {
                failure = unsupported;
            }
            AddDatabaseRun(perDatabase, database, databaseKeys);
            progress?.Report(new OperationProgress("Checking RDB file", $"{sourceName}: {keys} keys", total ?? reader.Position, total ?? reader.Position));
            var info = reader.Info;
            return new RdbFileCheck
            {
                Path = sourceName,
                IsValid = failure is null,
                Signature = info.Version == 0 ? null : info.Signature,
                RdbVersion = info.Version == 0 ? null : info.Version,
                RedisVersion = info.ServerVersion,
                CreatedUtc = info.CreatedUtc,
                UsedMemory = info.UsedMemory,
                Keys = keys,
                Expires = expires,
                AlreadyExpired = expired,
                KeysPerDatabase = perDatabase,
                AlreadyExpiredPerDatabase = expiredPerDatabase,
                KeysPerType = NonZero<RdbValueType>(perType),
                KeysPerEncoding = NonZero<RdbValueEncoding>(perEncoding),
                FunctionLibraries = info.Functions.Count,
                ModuleAuxCount = info.ModuleAux.Count,
                ChecksumStatus = reader.ChecksumStatus,
                RdbLength = reader.EndOffset - reader.StartOffset,
                TrailingBytes = reader.EndOffset is long end && total is long length ? length - end : null,
                ErrorId = failure?.ErrorId,
                ErrorOffset = failure switch
                {
                    CorruptDataException corrupt => corrupt.Offset,
                    RdbFormatNotSupportedException unsupported => unsupported.Offset,
                    _ => null,
                },
                Error = failure?.Message,
                LastGoodKey = reader.LastGoodKey,
                Exception = failure,
            };
        }

        private static void AddDatabaseRun(Dictionary<int, long> perDatabase, int database, long keys)
        {
            if (keys > 0)
            {
                perDatabase.TryGetValue(database, out var count);
                perDatabase[database] = count + keys;
            }
        }

        private static Dictionary<T, long> NonZero<T>(long[] counts)
            where T : struct, Enum
        {
            var result = new Dictionary<T, long>();
            foreach (T value in Enum.GetValues(typeof(T)))
            {
                var count = counts[Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)];
                if (count > 0)
                {
                    result[value] = count;
                }
            }
            return result;
        }
    }
}
