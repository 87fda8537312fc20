using System;
using System.IO;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage;
using RedisRecovery.Storage.Encryption;

namespace RedisRecovery.Backup
{
    public enum BackupCopyMode
    {
        /// <summary>The stored bytes as they are (an encrypted backup stays encrypted).</summary>
        AsIs,

        /// <summary>A plain backup becomes an OpenPGP file (<c>.rdb.gpg</c>) that `gpg --decrypt` reads.</summary>
        Encrypt,

        /// <summary>An encrypted backup becomes the plain RDB, checked against the SHA-256 recorded before encryption.</summary>
        Decrypt,
    }

    public sealed class BackupCopyOptions
    {
        public BackupCopyMode Mode { get; init; }

        /// <summary>Needed to encrypt or decrypt.</summary>
        public SecureString? Passphrase { get; init; }

        /// <summary>How to encrypt (the key derivation cost); defaults suit gpg.</summary>
        public OpenPgpEncryptionOptions? Encryption { get; init; }
    }

    /// <summary>
    /// Copies one backup (file, then sidecar) between stores: local ⇄ S3, optionally encrypting or decrypting on the way.
    /// Every byte read is checked against the source's sidecar before the destination object is committed, so a damaged
    /// source or a wrong passphrase leaves nothing at the destination; the result is the destination backup, Verified.
    /// </summary>
    public static class BackupCopier
    {
        private const string Activity = "Copying backup";

        public static async Task<RdbBackup> CopyAsync(IBackupStore source, string fileName, IBackupStore destination, BackupCopyOptions options,
            IProgress<OperationProgress>? progress, IOperationLog log, CancellationToken cancellationToken)
        {
            var backup = await new BackupCatalog(source).GetAsync(fileName, cancellationToken).ConfigureAwait(false)
                ?? throw new RedisRecoveryException("BackupNotFound", FailureKind.NotFound, $"No backup file or sidecar exists at '{source.Location}/{fileName}'.")
                {
                    Target = fileName,
                };
            if (backup.Status != BackupStatus.Ok)
            {
                throw new RedisRecoveryException("BackupNotCopyable", FailureKind.CorruptData,
                    $"{backup.Path} is not copied: its status is {backup.Status} ({backup.StatusDetail}). Only a backup whose sidecar vouches for it can be copied and verified.")
                {
                    Target = backup.Path,
                };
            }
            var sidecar = await BackupSidecar.ReadAsync(source, BackupFileName.SidecarFor(fileName), cancellationToken).ConfigureAwait(false);
            var destinationName = DestinationName(backup, options);

            var catalog = new BackupCatalog(destination);
            if (await AlreadyCopiedAsync(catalog, destination, destinationName, sidecar, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                log.Verbose($"{existing.Path} already holds this backup (same RDB SHA-256); not copied again.");
                return existing;
            }

            var total = sidecar.SizeBytes;
            var bytesRead = progress == null ? null : new Progress(progress, backup.Path, destination.Location, total);
            var written = await TransferAsync(source, fileName, destination, destinationName, sidecar, options, bytesRead, cancellationToken).ConfigureAwait(false);
            try
            {
                await written.Sidecar.WriteAsync(destination, BackupFileName.SidecarFor(destinationName), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // A file without its sidecar cannot be verified later: leave nothing rather than that.
                await destination.DeleteAsync(destinationName, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
            var copied = await catalog.GetAsync(destinationName, cancellationToken).ConfigureAwait(false);
            if (copied?.Status != BackupStatus.Ok)
            {
                throw new RedisRecoveryException("BackupCopyNotVerified", FailureKind.CorruptData,
                    $"The copy at {destination.Location}/{destinationName} does not check out after writing: {copied?.StatusDetail ?? "it is gone"}.")
                {
                    Target = destinationName,
                };
            }
            log.Verbose($"Copied {backup.Path} to {copied.Path} ({written.Description}).");
            return copied.AsVerified();
        }

        /// <summary>The name the copy gets: .gpg added when encrypting, removed when decrypting.</summary>
        public static string DestinationName(RdbBackup backup, BackupCopyOptions options)
        {
            switch (options.Mode)
            {
                case BackupCopyMode.Encrypt when backup.Encrypted:
                    throw Misuse("BackupAlreadyEncrypted", $"{backup.Path} is encrypted already; copy it without -Encrypt.", backup.Path);
                case BackupCopyMode.Decrypt when !backup.Encrypted:
                    throw Misuse("BackupNotEncrypted", $"{backup.Path} is not encrypted; copy it without -Decrypt.", backup.Path);
                case BackupCopyMode.Encrypt or BackupCopyMode.Decrypt when options.Passphrase == null:
                    throw Misuse("PassphraseRequired", $"Encrypting or decrypting {backup.Path} needs a passphrase.", backup.Path);
                case BackupCopyMode.Encrypt:
                    return BackupFileName.Encrypted(backup.FileName);
                case BackupCopyMode.Decrypt:
                    return BackupFileName.Decrypted(backup.FileName);
                default:
                    return backup.FileName;
            }
        }

        private static async Task<RdbBackup?> AlreadyCopiedAsync(BackupCatalog catalog, IBackupStore destination, string destinationName, BackupSidecar sidecar,
            CancellationToken cancellationToken)
        {
            var existing = await catalog.GetAsync(destinationName, cancellationToken).ConfigureAwait(false);
            if (existing?.Status != BackupStatus.Ok)
            {
                return null;
            }
            var existingSidecar = await BackupSidecar.ReadAsync(destination, BackupFileName.SidecarFor(destinationName), cancellationToken).ConfigureAwait(false);
            return PlaintextSha256(existingSidecar) == PlaintextSha256(sidecar) ? existing : null;
        }

        private static string PlaintextSha256(BackupSidecar sidecar) => sidecar.Encrypted ? sidecar.PlaintextSha256! : sidecar.Sha256;

        private static async Task<WrittenCopy> TransferAsync(IBackupStore source, string fileName, IBackupStore destination, string destinationName,
            BackupSidecar sidecar, BackupCopyOptions options, IProgress<long>? bytesRead, CancellationToken cancellationToken)
        {
            var sourcePath = source.Location + "/" + fileName;
            // The sidecar's SHA-256 is the check that counts: the store's own (S3's composite of part checksums) would be a second hash pass.
            using var checkedSource = new ExpectedContentStream(
                await source.OpenReadAsync(fileName, ReadIntegrity.CallerChecks, cancellationToken).ConfigureAwait(false), sidecar.SizeBytes, sidecar.Sha256, sourcePath, bytesRead);
            switch (options.Mode)
            {
                case BackupCopyMode.Encrypt:
                {
                    using var ciphertext = new HashingStream(new OpenPgpEncryptingReader(checkedSource, options.Passphrase!, options.Encryption, leaveOpen: true), reading: true);
                    var stored = await destination.PutAsync(destinationName, ciphertext, null, cancellationToken).ConfigureAwait(false);
                    var ciphertextSha256 = ciphertext.Sha256Hex();
                    await ExpectSizeAsync(destination, stored, ciphertext.BytesSeen).ConfigureAwait(false);
                    return new WrittenCopy(
                        Describe(sidecar, ciphertext.BytesSeen, ciphertextSha256, encrypted: true, plaintextSha256: sidecar.Sha256),
                        "encrypted; plaintext checked against the sidecar's SHA-256");
                }
                case BackupCopyMode.Decrypt:
                {
                    var decrypting = await OpenPgpDecryptingStream.OpenAsync(checkedSource, options.Passphrase!, sourcePath, leaveOpen: true, cancellationToken)
                        .ConfigureAwait(false);
                    using var plaintext = new ExpectedContentStream(decrypting, null, sidecar.PlaintextSha256!, sourcePath + " (decrypted)")
                    {
                        BeforeEnd = checkedSource.VerifyToEndAsync,
                    };
                    var stored = await destination.PutAsync(destinationName, plaintext, null, cancellationToken).ConfigureAwait(false);
                    await ExpectSizeAsync(destination, stored, plaintext.BytesRead).ConfigureAwait(false);
                    return new WrittenCopy(
                        Describe(sidecar, plaintext.BytesRead, sidecar.PlaintextSha256!, encrypted: false, plaintextSha256: null),
                        "decrypted; ciphertext and plaintext checked against the sidecar's SHA-256s");
                }
                default:
                {
                    var stored = await destination.PutAsync(destinationName, checkedSource, null, cancellationToken).ConfigureAwait(false);
                    await ExpectSizeAsync(destination, stored, sidecar.SizeBytes).ConfigureAwait(false);
                    return new WrittenCopy(sidecar, "bytes checked against the sidecar's size and SHA-256");
                }
            }
        }

        private static async Task ExpectSizeAsync(IBackupStore destination, StoredObject stored, long expected)
        {
            if (stored.Size != expected)
            {
                await destination.DeleteAsync(stored.Name, CancellationToken.None).ConfigureAwait(false);
                throw new RedisRecoveryException("BackupCopySizeMismatch", FailureKind.CorruptData,
                    $"{stored.FullLocation} holds {stored.Size} bytes after writing {expected}; it was deleted.") { Target = stored.FullLocation };
            }
        }

        /// <summary>The sidecar of a copy: the same backup facts, with the size and SHA-256s of the stored form.</summary>
        private static BackupSidecar Describe(BackupSidecar original, long size, string sha256, bool encrypted, string? plaintextSha256) => new()
        {
            Name = original.Name,
            Endpoint = original.Endpoint,
            Method = original.Method,
            CreatedUtc = original.CreatedUtc,
            SizeBytes = size,
            Sha256 = sha256,
            RdbVersion = original.RdbVersion,
            RedisVersion = original.RedisVersion,
            KeysPerDatabase = original.KeysPerDatabase,
            PointInTime = original.PointInTime,
            Encrypted = encrypted,
            PlaintextSha256 = plaintextSha256,
            CiphertextSha256 = encrypted ? sha256 : null,
            CreatedBy = original.CreatedBy,
        };

        private static RedisRecoveryException Misuse(string errorId, string message, string target) =>
            new(errorId, FailureKind.InvalidArgument, message) { Target = target };

        private sealed class WrittenCopy
        {
            public WrittenCopy(BackupSidecar sidecar, string description)
            {
                Sidecar = sidecar;
                Description = description;
            }

            public BackupSidecar Sidecar { get; }

            public string Description { get; }
        }

        /// <summary>Bytes read from the source, as progress of the whole copy (at most every MiB).</summary>
        private sealed class Progress : IProgress<long>
        {
            private readonly IProgress<OperationProgress> _target;
            private readonly string _status;
            private readonly long _total;
            private long _lastReported = -1;

            public Progress(IProgress<OperationProgress> target, string from, string to, long total)
            {
                _target = target;
                _status = $"{from} → {to}";
                _total = total;
            }

            public void Report(long value)
            {
                if (value - _lastReported >= 1 << 20 || value == _total)
                {
                    _lastReported = value;
                    _target.Report(new OperationProgress(Activity, _status, value, _total));
                }
            }
        }
    }
}
