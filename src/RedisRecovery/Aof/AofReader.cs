using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Aof
{
    /// <summary>
    /// Reads an AOF, single-file or multi-part, as one stream of commands in load order, with constant memory.
    /// Damage never throws from the enumeration: it ends it, and <see cref="Result"/> then says what was found
    /// where (a caller that applies commands stops at <see cref="AofCheckResult.ValidUpToOffset"/>).
    /// </summary>
    public sealed class AofReader
    {
        private static readonly byte[] RdbSignature = { (byte)'R', (byte)'E', (byte)'D', (byte)'I', (byte)'S' };
        private readonly int _bufferSize;

        private AofReader(string path, AofLayout layout, AofManifest? manifest, IReadOnlyList<AofFileCheck> files, IReadOnlyList<string> unlisted, int bufferSize)
        {
            _bufferSize = bufferSize;
            Result = new AofCheckResult
            {
                Path = path,
                Layout = layout,
                ManifestPath = manifest?.Path,
                UnlistedFiles = unlisted,
                Files = files,
            };
            Manifest = manifest;
        }

        public AofManifest? Manifest { get; }

        public AofCheckResult Result { get; }

        public IReadOnlyList<AofFileCheck> Files => Result.Files;

        /// <summary>Is the path a multi-part AOF (a directory, or a *.manifest file) rather than a single AOF file?</summary>
        public static AofLayout LayoutOf(string path) =>
            System.IO.Directory.Exists(path) || path.EndsWith(AofManifest.Suffix, StringComparison.OrdinalIgnoreCase)
                ? AofLayout.MultiPart
                : AofLayout.SingleFile;

        /// <summary>
        /// Opens a single AOF file, a multi-part AOF directory or its manifest. Throws
        /// <see cref="AofManifestException"/> when the manifest is invalid or lists a file that is missing.
        /// </summary>
        public static async Task<AofReader> OpenAsync(string path, CancellationToken cancellationToken, int bufferSize = AofScanner.DefaultBufferSize)
        {
            var fullPath = System.IO.Path.GetFullPath(path);
            if (LayoutOf(fullPath) == AofLayout.SingleFile)
            {
                if (!File.Exists(fullPath))
                {
                    throw new RedisRecoveryException("AofNotFound", FailureKind.NotFound, $"{fullPath}: no such AOF file.") { Target = fullPath };
                }
                var single = new AofFileCheck { FileName = System.IO.Path.GetFileName(fullPath), FullPath = fullPath, Length = new FileInfo(fullPath).Length };
                return new AofReader(fullPath, AofLayout.SingleFile, null, new[] { single }, Array.Empty<string>(), bufferSize);
            }
            var manifestPath = FindManifest(fullPath);
            var manifest = await AofManifest.LoadAsync(manifestPath, cancellationToken).ConfigureAwait(false);
            var missing = manifest.LoadOrder.Where(e => !File.Exists(System.IO.Path.Combine(manifest.Directory, e.FileName))).Select(e => e.FileName).ToList();
            if (missing.Count > 0)
            {
                throw new AofManifestException(manifestPath, $"listed file(s) missing from the directory: {string.Join(", ", missing)}");
            }
            var files = manifest.LoadOrder.Select(entry =>
            {
                var filePath = System.IO.Path.Combine(manifest.Directory, entry.FileName);
                return new AofFileCheck { FileName = entry.FileName, FullPath = filePath, Type = entry.Type, Length = new FileInfo(filePath).Length };
            }).ToList();
            return new AofReader(fullPath, AofLayout.MultiPart, manifest, files, UnlistedFiles(manifest), bufferSize);
        }

        /// <summary>The manifest of a multi-part directory: the only *.manifest file in it.</summary>
        internal static string FindManifest(string path)
        {
            if (!System.IO.Directory.Exists(path))
            {
                if (!File.Exists(path))
                {
                    throw new RedisRecoveryException("AofNotFound", FailureKind.NotFound, $"{path}: no such AOF manifest or directory.") { Target = path };
                }
                return path;
            }
            var manifests = System.IO.Directory.GetFiles(path, "*" + AofManifest.Suffix);
            switch (manifests.Length)
            {
                case 1:
                    return manifests[0];
                case 0:
                    throw new AofManifestException(path, "the directory holds no *.manifest file");
                default:
                    throw new AofManifestException(path, $"the directory holds several manifests ({string.Join(", ", manifests.Select(System.IO.Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal))}); name the one to use");
            }
        }

        private static IReadOnlyList<string> UnlistedFiles(AofManifest manifest)
        {
            var listed = new HashSet<string>(manifest.Entries.Select(e => e.FileName), StringComparer.Ordinal);
            return System.IO.Directory.GetFiles(manifest.Directory, manifest.BaseName + ".*")
                .Select(System.IO.Path.GetFileName)
                .Where(name => name != null && !listed.Contains(name) && (name.EndsWith(".aof", StringComparison.Ordinal) || name.EndsWith(".rdb", StringComparison.Ordinal)))
                .Select(name => name!)
                .OrderBy(name => name, StringComparer.Ordinal)
                .ToList();
        }

        /// <summary>
        /// The commands of every file in load order. Commands of a MULTI that never reaches its EXEC are yielded
        /// as they are read, before the end of the file shows the transaction incomplete.
        /// </summary>
        public async IAsyncEnumerable<AofCommand> ReadCommandsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var names = new CommandNameTable();
            var result = Result;
            DateTimeOffset? timestamp = null;
            result.Status = AofStatus.Valid;
            for (var index = 0; index < Files.Count; index++)
            {
                var file = Files[index];
                var isLast = index == Files.Count - 1;
                file.Read = true;
                using var stream = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
                var start = await SkipPreambleAsync(stream, file, cancellationToken).ConfigureAwait(false);
                if (file.Status != AofStatus.Valid)
                {
                    Fail(file, isLast);
                    yield break;
                }
                using var scanner = new AofScanner(stream, file.FileName, start, _bufferSize);
                file.ValidUpToOffset = start;
                long? annotationsStart = null;
                long transactionCut = -1;
                long transactionCommands = 0;
                while (true)
                {
                    var kind = await scanner.NextAsync(cancellationToken).ConfigureAwait(false);
                    if (kind == AofItemKind.Command)
                    {
                        var name = names.Lookup(scanner.Name, scanner.NameTooLong);
                        var cut = annotationsStart ?? scanner.ItemOffset;
                        if (name == "MULTI")
                        {
                            if (transactionCut >= 0)
                            {
                                Damage(file, AofStatus.Corrupt, scanner.ItemOffset, "expected EXEC before another MULTI");
                                break;
                            }
                            transactionCut = cut;
                        }
                        else if (name == "EXEC" && transactionCut < 0)
                        {
                            Damage(file, AofStatus.Corrupt, scanner.ItemOffset, "expected MULTI before EXEC");
                            break;
                        }
                        var inTransaction = transactionCut >= 0;
                        yield return new AofCommand(index, file.FileName, scanner.ItemOffset, scanner.ItemEnd - scanner.ItemOffset,
                            inTransaction ? transactionCut : cut, name, scanner.ArgumentCount, timestamp, inTransaction);
                        annotationsStart = null;
                        if (inTransaction)
                        {
                            transactionCommands++;
                            if (name != "EXEC")
                            {
                                continue;
                            }
                            transactionCut = -1;
                            file.Commands += transactionCommands;
                            transactionCommands = 0;
                        }
                        else
                        {
                            file.Commands++;
                        }
                        file.ValidUpToOffset = scanner.ItemEnd;
                    }
                    else if (kind == AofItemKind.Annotation)
                    {
                        if (scanner.AnnotationTimestamp is long seconds)
                        {
                            timestamp = DateTimeOffset.FromUnixTimeSeconds(Math.Min(seconds, 253402300799));
                            result.FirstTimestampUtc ??= timestamp.Value.UtcDateTime;
                            result.LastTimestampUtc = timestamp.Value.UtcDateTime;
                        }
                        if (transactionCut < 0)
                        {
                            annotationsStart ??= scanner.ItemOffset;
                            file.ValidUpToOffset = scanner.ItemEnd;
                        }
                    }
                    else if (kind == AofItemKind.End)
                    {
                        if (transactionCut >= 0)
                        {
                            Damage(file, AofStatus.Truncated, scanner.ErrorOffset, "the file ends inside a MULTI transaction (no EXEC)");
                        }
                        break;
                    }
                    else
                    {
                        Damage(file, kind == AofItemKind.Truncated ? AofStatus.Truncated : AofStatus.Corrupt, scanner.ErrorOffset, scanner.Error);
                        break;
                    }
                }
                if (file.Status != AofStatus.Valid)
                {
                    Fail(file, isLast);
                    yield break;
                }
            }
            var lastFile = Files[Files.Count - 1];
            result.ValidUpToFile = lastFile.FileName;
            result.ValidUpToOffset = lastFile.ValidUpToOffset;
        }

        private void Fail(AofFileCheck file, bool isLast)
        {
            // Redis accepts a truncated tail only in the last file it loads; anywhere else it is fatal.
            if (file.Status == AofStatus.Truncated && !isLast)
            {
                file.Status = AofStatus.Corrupt;
                file.Error = file.Error + "; only the last file may end early";
            }
            Result.Status = file.Status;
            Result.ErrorFile = file.FileName;
            Result.ErrorOffset = file.ErrorOffset;
            Result.Error = file.Error;
            Result.ValidUpToFile = file.FileName;
            Result.ValidUpToOffset = file.ValidUpToOffset;
        }

        private static void Damage(AofFileCheck file, AofStatus status, long offset, string error)
        {
            file.Status = status;
            file.ErrorOffset = offset;
            file.Error = error;
        }

        /// <summary>Where the RESP part of the file starts: 0, or just after an RDB preamble.</summary>
        private static async Task<long> SkipPreambleAsync(FileStream stream, AofFileCheck file, CancellationToken cancellationToken)
        {
            file.Status = AofStatus.Valid;
            file.Format = AofFileFormat.Resp;
            file.Commands = 0;
            file.ErrorOffset = null;
            file.Error = null;
            var head = new byte[RdbSignature.Length];
            var read = 0;
            while (read < head.Length)
            {
                var n = await stream.ReadAsync(head, read, head.Length - read, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                read += n;
            }
            stream.Position = 0;
            if (read < head.Length || !head.AsSpan().SequenceEqual(RdbSignature))
            {
                return 0;
            }
            file.Format = AofFileFormat.RdbPreamble;
            try
            {
                var (end, keys) = await RdbPreamble.SkipAsync(stream, file.FileName, cancellationToken).ConfigureAwait(false);
                file.PreambleEndOffset = end;
                file.PreambleKeys = keys;
                stream.Position = end;
                return end;
            }
            catch (CorruptDataException damaged)
            {
                Damage(file, AofStatus.Corrupt, damaged.Offset, "RDB preamble: " + damaged.Expectation);
                return 0;
            }
        }
    }
}
