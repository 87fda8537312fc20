using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// What Redis 7.0's DEBUG DIGEST would answer once the RDB is loaded, computed from the file: either a digest, or
    /// why none can be computed (then <see cref="Digest"/> is null, never a wrong number).
    /// </summary>
    public sealed class RdbDigestResult
    {
        internal RdbDigestResult(string? digest, string? unknownReason, long keys, bool hasFractionalScores, TimeSpan duration)
        {
            Digest = digest;
            UnknownReason = unknownReason;
            Keys = keys;
            HasFractionalScores = hasFractionalScores;
            Duration = duration;
        }

        /// <summary>40 lowercase hex digits (all zeros for an empty dataset), or null when unknown.</summary>
        public string? Digest { get; }

        public string? UnknownReason { get; }

        /// <summary>Keys the digest covers (a loading server drops keys whose expiry has passed, so does the digest).</summary>
        public long Keys { get; }

        /// <summary>
        /// A sorted set holds a score that is not a small integer. Redis up to 7.0 writes scores into the digest with
        /// "%.17g", 7.2 and later with a shortest-round-trip formatter: for such scores the two digests differ.
        /// </summary>
        public bool HasFractionalScores { get; }

        public TimeSpan Duration { get; }
    }

    /// <summary>
    /// Computes the DEBUG DIGEST of Redis 7.0 from an RDB, streaming: memory stays at one element or packed node. It
    /// assumes the default zset-max-listpack-entries/-value (128/64): they decide whether a -0 score reads back as "0".
    /// </summary>
    public static class RdbDigest
    {
        private const long ProgressStep = 32L * 1024 * 1024;
        private const string ProgressActivity = "Computing the DEBUG DIGEST of an RDB file";

        /// <summary>The digest of the dataset in the RDB at <paramref name="path"/> as a server loading it at
        /// <paramref name="now"/> (default: now) would report it.</summary>
        public static async Task<RdbDigestResult> ComputeAsync(string path, DateTimeOffset? now = null, IProgress<OperationProgress>? progress = null,
            CancellationToken cancellationToken = default)
        {
            var total = new FileInfo(path).Length;
            using var reader = new RdbReader(
                new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan),
                new RdbReaderOptions { SourceName = Path.GetFullPath(path), BaseOffset = 0 });
            var nowMs = (now ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
            return await ComputeAsync(reader, entry => entry.Database, nowMs, cancellationToken, progress, total).ConfigureAwait(false);
        }

        /// <summary>
        /// The digest of the keys <paramref name="databaseOf"/> keeps (it returns the database a key lands in, or null
        /// to leave the key out), as a server holding exactly those keys would report it. Keys expired at
        /// <paramref name="nowMs"/> are left out, as a loading server drops them.
        /// </summary>
        internal static async Task<RdbDigestResult> ComputeAsync(RdbReader reader, Func<RdbEntry, int?> databaseOf, long nowMs, CancellationToken cancellationToken,
            IProgress<OperationProgress>? progress = null, long? total = null)
        {
            var watch = Stopwatch.StartNew();
            var nextReport = ProgressStep;
            using var builder = new RdbDigestBuilder();
            await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadEntryAsync(cancellationToken).ConfigureAwait(false) is RdbEntry entry)
            {
                if (progress != null && reader.Position >= nextReport)
                {
                    nextReport = reader.Position + ProgressStep;
                    progress.Report(new OperationProgress(ProgressActivity, $"{reader.SourceName}: {builder.Keys} keys", reader.Position, total));
                }
                if (entry.ExpiresAtMs is long expiry && expiry < nowMs || databaseOf(entry) is not int database)
                {
                    continue;
                }
                if (RdbDigestBuilder.UnknownReasonFor(entry.TypeId) is { } reason)
                {
                    return new RdbDigestResult(null, $"{reason} (key '{entry.KeyText}' at byte {entry.Offset})", builder.Keys, builder.HasFractionalScores, watch.Elapsed);
                }
                builder.BeginKey(database, entry.Key, entry.TypeId, entry.ExpiresAtMs != null);
                if (entry.Type == RdbValueType.String && entry.HasBufferedValue && RdbStringDecoding.TryDecode(entry.Value, out var plain))
                {
                    // Most keys of most files: hashed where the reader holds them, without a walk.
                    builder.StringValue(plain.Span);
                }
                else if (entry.Type == RdbValueType.String)
                {
                    // A string value may be any size: it is hashed piece by piece as it is read, never held.
                    await entry.WalkValueAsync(reader.SourceName, walker => walker.ReadStringInPartsAsync("string value", builder.StringPart, cancellationToken),
                        cancellationToken).ConfigureAwait(false);
                    builder.EndString();
                }
                else
                {
                    await entry.WalkValueAsync(reader.SourceName, builder, cancellationToken).ConfigureAwait(false);
                }
                builder.EndKey();
            }
            progress?.Report(new OperationProgress(ProgressActivity, $"{reader.SourceName}: {builder.Keys} keys", total ?? reader.Position, total ?? reader.Position));
            return new RdbDigestResult(builder.Finish(), null, builder.Keys, builder.HasFractionalScores, watch.Elapsed);
        }
    }

    /// <summary>
    /// Redis 7.0's DEBUG DIGEST (debug.c computeDatasetDigest), fed one key and its elements at a time. Unordered
    /// things (keys, set members, hash fields, sorted set members) are combined by XOR of the SHA-1s of their own
    /// digests, so the file's order does not matter; ordered things (list items, stream entries) are chained: digest = SHA1(digest XOR SHA1(x)).
    /// </summary>
    internal sealed class RdbDigestBuilder : IRdbElementSink, IDisposable
    {
        private const int Size = 20;
        private static readonly byte[] ExpireMark = Encoding.ASCII.GetBytes("!!expire!!");

        /// <summary>XOR of the SHA-1s of the key digests of each database: databases enter the final digest in ascending
        /// order, and a file may visit a database more than once.</summary>
        private readonly SortedDictionary<int, byte[]> _databases = new();
        private readonly byte[] _key = new byte[Size];
        private readonly byte[] _element = new byte[Size];
        private readonly byte[] _hash = new byte[Size];
        private readonly byte[] _word = new byte[4];
        private int _database;
        private bool _hasExpire;

        // A sorted set stored as a skiplist in the file is turned into a listpack by a loading 7.0 when it is small
        // (zset-max-listpack-entries 128, zset-max-listpack-value 64, the defaults), which writes each score as text
        // on the way: -0 becomes "0" there, and the digest reads that text back. Both forms are kept until the set's
        // size is known.
        private const int ListpackMaxEntries = 128;
        private const int ListpackMaxValue = 64;
        private static readonly byte[] Zero = Encoding.ASCII.GetBytes("0");
        private readonly byte[] _negativeZeroAsZero = new byte[Size];
        private bool _fromSkiplist;
        private long _members;
        private int _longestMember;
        private readonly IncrementalHash _parts = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
#if !NET8_0_OR_GREATER
        private readonly IncrementalHash _sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
#endif

        public long Keys { get; private set; }

        public bool HasFractionalScores { get; private set; }

        public void Dispose()
        {
            _parts.Dispose();
#if !NET8_0_OR_GREATER
            _sha1.Dispose();
#endif
        }

        /// <summary>Why the digest of a value of this RDB type cannot be computed, or null.</summary>
        public static string? UnknownReasonFor(byte typeId) => typeId switch
        {
            RdbFormat.TypeModulePreGa or RdbFormat.TypeModule2 =>
                "a module value: DEBUG DIGEST asks the module's own digest callback, which only the module implements",
            RdbFormat.TypeHashMetadataPreGa or RdbFormat.TypeHashMetadata or RdbFormat.TypeHashListpackExPreGa or RdbFormat.TypeHashListpackEx =>
                "a hash with field expiry (Redis 7.4+): Redis 7.0 has no such value, so it has no digest for it",
            _ => null,
        };

        public void BeginKey(int database, byte[] key, byte typeId, bool hasExpire)
        {
            var type = RdbFormat.ValueTypeOf(typeId);
            _database = database;
            _hasExpire = hasExpire;
            _fromSkiplist = typeId is RdbFormat.TypeZset or RdbFormat.TypeZset2;
            _members = 0;
            _longestMember = 0;
            Array.Clear(_negativeZeroAsZero, 0, Size);
            Array.Clear(_key, 0, Size);
            Mix(_key, key);
            BinaryPrimitives.WriteUInt32BigEndian(_word, ObjectTypeOf(type));
            Mix(_key, _word);
        }

        public void EndKey()
        {
            if (_fromSkiplist && _members <= ListpackMaxEntries && _longestMember <= ListpackMaxValue)
            {
                XorInto(_key, _negativeZeroAsZero);
            }
            if (_hasExpire)
            {
                Xor(_key, ExpireMark);
            }
            if (!_databases.TryGetValue(_database, out var sum))
            {
                sum = new byte[Size];
                _databases.Add(_database, sum);
            }
            Xor(sum, _key);
            Keys++;
        }

        /// <summary>The digest as 40 lowercase hex digits.</summary>
        public string Finish()
        {
            var final = new byte[Size];
            foreach (var database in _databases)
            {
                BinaryPrimitives.WriteUInt32BigEndian(_word, (uint)database.Key);
                Mix(final, _word);
                XorInto(final, database.Value);
            }
            var text = new StringBuilder(Size * 2);
            foreach (var b in final)
            {
                text.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            }
            return text.ToString();
        }

        /// <summary>Redis' object type numbers (OBJ_STRING ... OBJ_STREAM), which the digest mixes in.</summary>
        private static uint ObjectTypeOf(RdbValueType type) => type switch
        {
            RdbValueType.String => 0,
            RdbValueType.List => 1,
            RdbValueType.Set => 2,
            RdbValueType.SortedSet => 3,
            RdbValueType.Hash => 4,
            RdbValueType.Module => 5,
            _ => 6,
        };

        /// <summary>A score as Redis 7.0 prints it into the digest: C's "%.17g".</summary>
        internal static string FormatScore(double score)
        {
            if (double.IsPositiveInfinity(score))
            {
                return "inf";
            }
            if (double.IsNegativeInfinity(score))
            {
                return "-inf";
            }
            if (double.IsNaN(score))
            {
                return "nan";
            }
            // .NET's G17 picks fixed or exponent notation by C's rule; only the exponent is spelled differently
            // ("E+16", "E-05" where C writes "e+16", "e-05").
            var text = score.ToString("G17", CultureInfo.InvariantCulture);
            var e = text.IndexOf('E');
            if (e < 0)
            {
                return text;
            }
            var exponent = int.Parse(text.Substring(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return text.Substring(0, e) + (exponent < 0 ? "e-" : "e+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        }

        // ---- elements ----

        /// <summary>One piece of a string value; <see cref="EndString"/> mixes the whole into the key's digest.</summary>
        public void StringPart(ReadOnlyMemory<byte> part) => StringPart(part.Span);

        public void StringPart(ReadOnlySpan<byte> part)
        {
#if NET8_0_OR_GREATER
            _parts.AppendData(part);
#else
            _parts.AppendData(part.ToArray());
#endif
        }

        /// <summary>A whole string value, held: hashed without the incremental hash's calls into the platform.</summary>
        public void StringValue(ReadOnlySpan<byte> value) => Mix(_key, value);

        public void EndString()
        {
            XorInto(_key, _parts.GetHashAndReset());
            Sha1(_key, _key);
        }

        public ValueTask StringAsync(byte[] value, CancellationToken cancellationToken)
        {
            Mix(_key, value);
            return default;
        }

        public ValueTask ListItemAsync(byte[] item, CancellationToken cancellationToken)
        {
            Mix(_key, item);
            return default;
        }

        public ValueTask SetMemberAsync(byte[] member, CancellationToken cancellationToken)
        {
            Xor(_key, member);
            return default;
        }

        public ValueTask SortedSetMemberAsync(RdbSortedSetMember member, CancellationToken cancellationToken)
        {
            var score = member.Score;
            if (!(Math.Abs(score) < 1e15 && Math.Floor(score) == score) && !double.IsInfinity(score))
            {
                HasFractionalScores = true;
            }
            _members++;
            _longestMember = Math.Max(_longestMember, member.Member.Length);
            var text = Encoding.ASCII.GetBytes(FormatScore(score));
            Array.Clear(_element, 0, Size);
            Mix(_element, member.Member);
            Mix(_element, text);
            Xor(_key, _element);
            if (_fromSkiplist && score == 0 && BitConverter.DoubleToInt64Bits(score) < 0)
            {
                // Swaps this member's "-0" for "0" if the set turns out small: XOR out the one, XOR in the other.
                Xor(_negativeZeroAsZero, _element);
                Array.Clear(_element, 0, Size);
                Mix(_element, member.Member);
                Mix(_element, Zero);
                Xor(_negativeZeroAsZero, _element);
            }
            return default;
        }

        public ValueTask HashFieldAsync(RdbHashField field, CancellationToken cancellationToken)
        {
            Array.Clear(_element, 0, Size);
            Mix(_element, field.Field);
            Mix(_element, field.Value);
            Xor(_key, _element);
            return default;
        }

        public ValueTask StreamEntryAsync(RdbStreamEntry entry, CancellationToken cancellationToken)
        {
            Mix(_key, Encoding.ASCII.GetBytes(FormattableString.Invariant($"{entry.Id.Milliseconds}.{entry.Id.Sequence}")));
            foreach (var pair in entry.Fields)
            {
                Mix(_key, pair.Key);
                Mix(_key, pair.Value);
            }
            return default;
        }

        // 7.0 digests a stream's entries only: its groups, consumers and counters leave the digest unchanged.
        public ValueTask StreamInfoAsync(RdbStreamInfo info, CancellationToken cancellationToken) => default;

        public ValueTask StreamGroupAsync(RdbStreamGroup group, CancellationToken cancellationToken) => default;

        public ValueTask StreamProducerAsync(RdbStreamProducer producer, CancellationToken cancellationToken) => default;

        public ValueTask ModuleAsync(ulong moduleId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("module values have no digest: the caller checks UnknownReasonFor first");

        // ---- debug.c's xorDigest and mixDigest ----

        /// <summary>digest ^= SHA1(data)</summary>
        private void Xor(byte[] digest, ReadOnlySpan<byte> data)
        {
            Sha1(data, _hash);
            XorInto(digest, _hash);
        }

        /// <summary>digest = SHA1(digest ^ SHA1(data))</summary>
        private void Mix(byte[] digest, ReadOnlySpan<byte> data)
        {
            Xor(digest, data);
            Sha1(digest, digest);
        }

        private static void XorInto(byte[] digest, byte[] other)
        {
            for (var i = 0; i < Size; i++)
            {
                digest[i] ^= other[i];
            }
        }

        private void Sha1(ReadOnlySpan<byte> data, byte[] destination)
        {
            if (data.Length <= ShortSha1.MaxLength)
            {
                ShortSha1.Hash(data, destination);
                return;
            }
#if NET8_0_OR_GREATER
            SHA1.HashData(data, destination);
#else
            _sha1.AppendData(data.ToArray());
            Buffer.BlockCopy(_sha1.GetHashAndReset(), 0, destination, 0, Size);
#endif
        }
    }
}
