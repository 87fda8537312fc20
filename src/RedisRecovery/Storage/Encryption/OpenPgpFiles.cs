using System;
using System.IO;
using System.Security;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage.Encryption
{
    /// <summary>Sizes and SHA-256 (lowercase hex) of both sides of an encryption or decryption, for the backup's sidecar.</summary>
    public sealed class OpenPgpFileResult
    {
        internal OpenPgpFileResult(long plaintextLength, string plaintextSha256, long ciphertextLength, string ciphertextSha256)
        {
            PlaintextLength = plaintextLength;
            PlaintextSha256 = plaintextSha256;
            CiphertextLength = ciphertextLength;
            CiphertextSha256 = ciphertextSha256;
        }

        public long PlaintextLength { get; }

        public string PlaintextSha256 { get; }

        public long CiphertextLength { get; }

        public string CiphertextSha256 { get; }
    }

    /// <summary>
    /// File-to-file encryption and decryption that never leaves a partial result: the output is written beside the
    /// destination under a temporary name and renamed only once complete (and, when decrypting, verified).
    /// </summary>
    public static class OpenPgpFiles
    {
        public static async Task<OpenPgpFileResult> EncryptFileAsync(string sourcePath, string destinationPath, SecureString passphrase,
            OpenPgpEncryptionOptions? options, CancellationToken cancellationToken)
        {
            return await WriteAtomicallyAsync(destinationPath, async output =>
            {
                using var source = OpenSource(sourcePath);
                using var plaintext = new HashingStream(source, reading: true);
                using var ciphertext = new HashingStream(output, reading: false);
                using var encrypting = new OpenPgpEncryptingStream(ciphertext, passphrase, options, leaveOpen: true);
                await plaintext.CopyToAsync(encrypting, 128 * 1024, cancellationToken).ConfigureAwait(false);
                await encrypting.CompleteAsync(cancellationToken).ConfigureAwait(false);
                return new OpenPgpFileResult(plaintext.BytesSeen, plaintext.Sha256Hex(), ciphertext.BytesSeen, ciphertext.Sha256Hex());
            }).ConfigureAwait(false);
        }

        /// <summary>
        /// Decrypts to <paramref name="destinationPath"/>; with a wrong passphrase, a damaged or a truncated file it throws
        /// and the destination is not created.
        /// </summary>
        public static async Task<OpenPgpFileResult> DecryptFileAsync(string sourcePath, string destinationPath, SecureString passphrase,
            CancellationToken cancellationToken)
        {
            return await WriteAtomicallyAsync(destinationPath, async output =>
            {
                using var ciphertext = new HashingStream(OpenSource(sourcePath), reading: true);
                using var decrypting = await OpenPgpDecryptingStream.OpenAsync(ciphertext, passphrase, sourcePath, leaveOpen: true, cancellationToken)
                    .ConfigureAwait(false);
                using var plaintext = new HashingStream(output, reading: false);
                await decrypting.CopyToAsync(plaintext, 128 * 1024, cancellationToken).ConfigureAwait(false);
                return new OpenPgpFileResult(plaintext.BytesSeen, plaintext.Sha256Hex(), ciphertext.BytesSeen, ciphertext.Sha256Hex());
            }).ConfigureAwait(false);
        }

        private static FileStream OpenSource(string path)
        {
            try
            {
                return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 128 * 1024, useAsync: true);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new RedisRecoveryException("FileNotFound", FailureKind.NotFound, $"{path} does not exist.", e) { Target = path };
            }
        }

        private static async Task<OpenPgpFileResult> WriteAtomicallyAsync(string destinationPath, Func<Stream, Task<OpenPgpFileResult>> write)
        {
            if (File.Exists(destinationPath))
            {
                throw new RedisRecoveryException("DestinationExists", FailureKind.Conflict, $"{destinationPath} already exists.") { Target = destinationPath };
            }
            var temporary = destinationPath + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".partial";
            try
            {
                OpenPgpFileResult result;
                using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 128 * 1024, useAsync: true))
                {
                    result = await write(output).ConfigureAwait(false);
                    output.Flush(flushToDisk: true);
                }
                File.Move(temporary, destinationPath);
                return result;
            }
            catch
            {
                File.Delete(temporary);
                throw;
            }
        }
    }
}
