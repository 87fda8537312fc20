using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage.Encryption;
using RedisRecovery.Tests.Infrastructure;

namespace RedisRecovery.Tests.Storage
{
    /// <summary>Encryption both ways against the real gpg: what we write gpg decrypts, what gpg -c writes we decrypt.</summary>
    public sealed class OpenPgpInteropTests : IDisposable
    {
        private const string Passphrase = "correct horse battery staple ✓";
        private readonly GpgProcess _gpg = new();
        private readonly string _directory = RedisServerProcess.CreateTempDirectory();

        /// <summary>Cheap key derivation keeps the tests fast; one test uses the full default.</summary>
        private static readonly OpenPgpEncryptionOptions FastOptions = new() { KeyDerivationBytes = 1024 };

        public void Dispose()
        {
            _gpg.Dispose();
            Directory.Delete(_directory, recursive: true);
        }

        // Sizes around the 2^16-byte partial-length chunks of the literal packet (its body has 6 bytes of header) and of
        // the encrypted packet, and around the one/two/five-octet definite length encodings.
        [Theory]
        [InlineData(0)]
        [InlineData(1)]
        [InlineData(185)]
        [InlineData(186)]
        [InlineData(8377)]
        [InlineData(8378)]
        [InlineData(65529)]
        [InlineData(65530)]
        [InlineData(65531)]
        [InlineData(65536)]
        [InlineData(65560)]
        [InlineData(131060)]
        [InlineData(131061)]
        [InlineData(131062)]
        [InlineData(1_000_003)]
        public async Task OurMessage_IsDecryptedByGpg(int size)
        {
            var plaintext = Random(size, size);
            var encrypted = Path.Combine(_directory, "backup.rdb.gpg");
            await using (var file = File.Create(encrypted))
            {
                var encrypting = new OpenPgpEncryptingStream(file, S3TestEnvironment.Secure(Passphrase), FastOptions, leaveOpen: true);
                await encrypting.WriteAsync(plaintext.AsMemory(0, size / 3));
                encrypting.Write(plaintext, size / 3, size - size / 3);
                await encrypting.CompleteAsync(CancellationToken.None);
                await encrypting.DisposeAsync();
            }

            var decrypted = Path.Combine(_directory, "backup.rdb");
            var (exit, errors) = await _gpg.RunAsync(Passphrase, "--output", decrypted, "--decrypt", encrypted);

            Assert.True(exit == 0, errors);
            Assert.Equal(plaintext, await File.ReadAllBytesAsync(decrypted));
            Assert.Contains("AES256", errors);
        }

        [Fact]
        public async Task OurMessage_WithDefaultKeyDerivation_IsDecryptedByGpg_AndNamesTheFile()
        {
            var source = Path.Combine(_directory, "dump.rdb");
            var plaintext = Random(300_000, 1);
            await File.WriteAllBytesAsync(source, plaintext);
            var encrypted = source + ".gpg";

            var result = await OpenPgpFiles.EncryptFileAsync(source, encrypted, S3TestEnvironment.Secure(Passphrase),
                new OpenPgpEncryptionOptions { FileName = "dump.rdb" }, CancellationToken.None);

            Assert.Equal(plaintext.Length, result.PlaintextLength);
            Assert.Equal(Sha256(plaintext), result.PlaintextSha256);
            Assert.Equal(Sha256(await File.ReadAllBytesAsync(encrypted)), result.CiphertextSha256);
            var (exit, errors) = await _gpg.RunAsync(Passphrase, "--list-packets", encrypted);
            Assert.True(exit == 0, errors);
            Assert.Contains("cipher 9", errors);
            Assert.Contains("s2k 3, hash 8", errors);
            Assert.Contains("count 65011712", errors);
            Assert.Contains("mdc_method: 2", errors);
            Assert.Contains("name=\"dump.rdb\"", errors);
            var decrypted = Path.Combine(_directory, "out.rdb");
            (exit, errors) = await _gpg.RunAsync(Passphrase, "--output", decrypted, "--decrypt", encrypted);
            Assert.True(exit == 0, errors);
            Assert.Equal(plaintext, await File.ReadAllBytesAsync(decrypted));
        }

        public static IEnumerable<object[]> GpgVariants() => new[]
        {
            new object[] { "defaults (AES256, ZIP, SHA-1 S2K)", Array.Empty<string>(), 100_000, "AES256", "ZIP" },
            new object[] { "AES256 uncompressed", new[] { "--cipher-algo", "AES256", "-z", "0" }, 100_000, "AES256", null! },
            new object[] { "AES128", new[] { "--cipher-algo", "AES128" }, 70_000, "AES128", "ZIP" },
            new object[] { "AES192 ZLIB SHA-512 S2K", new[] { "--cipher-algo", "AES192", "--compress-algo", "zlib", "--s2k-digest-algo", "SHA512" }, 70_000, "AES192", "ZLIB" },
            new object[] { "salted S2K", new[] { "--s2k-mode", "1", "--s2k-digest-algo", "SHA256" }, 5_000, "AES256", "ZIP" },
            new object[] { "empty file", Array.Empty<string>(), 0, "AES256", "ZIP" },
            new object[] { "large compressible", new[] { "--compress-algo", "zlib" }, 3_000_000, "AES256", "ZLIB" },
            new object[] { "large incompressible", new[] { "-z", "0" }, 2_500_001, "AES256", null! },
        };

        [Theory]
        [MemberData(nameof(GpgVariants))]
        public async Task GpgSymmetricMessage_IsDecryptedByUs(string variant, string[] gpgOptions, int size, string cipher, string? compression)
        {
            var plaintext = variant.Contains("compressible") && !variant.Contains("incompressible") ? Compressible(size) : Random(size, size + 7);
            var source = Path.Combine(_directory, "dump.rdb");
            await File.WriteAllBytesAsync(source, plaintext);
            var encrypted = source + ".gpg";
            var cheapKeyDerivation = variant.StartsWith("defaults") ? Array.Empty<string>() : new[] { "--s2k-count", "65536" };
            var (exit, errors) = await _gpg.RunAsync(Passphrase,
                cheapKeyDerivation.Concat(gpgOptions).Concat(new[] { "--output", encrypted, "--symmetric", source }).ToArray());
            Assert.True(exit == 0, errors);

            await using var decrypting = await OpenPgpDecryptingStream.OpenAsync(File.OpenRead(encrypted), S3TestEnvironment.Secure(Passphrase),
                encrypted, leaveOpen: false, CancellationToken.None);
            using var copy = new MemoryStream();
            await decrypting.CopyToAsync(copy);

            Assert.Equal(plaintext, copy.ToArray());
            Assert.Equal(cipher, decrypting.CipherAlgorithm);
            Assert.Equal(compression, decrypting.Compression);
            Assert.Equal("dump.rdb", decrypting.FileName);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(7)]
        [InlineData(4093)]
        public async Task GpgMessage_ReadSynchronouslyInOddSizedPieces_GivesTheSameBytes(int pieceSize)
        {
            var plaintext = Random(150_000, 3);
            var encrypted = GpgEncrypt(plaintext, "--compress-algo", "zip");

            using var decrypting = await OpenPgpDecryptingStream.OpenAsync(new MemoryStream(encrypted), S3TestEnvironment.Secure(Passphrase), "piece.gpg", false,
                CancellationToken.None);
            using var copy = new MemoryStream();
            var buffer = new byte[pieceSize];
            int read;
            while ((read = decrypting.Read(buffer, 0, buffer.Length)) > 0)
            {
                copy.Write(buffer, 0, read);
            }

            Assert.Equal(plaintext, copy.ToArray());
        }

        [Fact]
        public async Task WrongPassphrase_OnOurAndOnGpgFiles_IsAClearError_AndWritesNothing()
        {
            var plaintext = Random(20_000, 4);
            var ours = Path.Combine(_directory, "ours.gpg");
            await File.WriteAllBytesAsync(ours, await EncryptAsync(plaintext));
            var theirs = Path.Combine(_directory, "theirs.gpg");
            await File.WriteAllBytesAsync(theirs, GpgEncrypt(plaintext));

            foreach (var encrypted in new[] { ours, theirs })
            {
                var destination = encrypted + ".rdb";
                var error = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                    OpenPgpFiles.DecryptFileAsync(encrypted, destination, S3TestEnvironment.Secure("not the passphrase"), CancellationToken.None));

                Assert.Equal("OpenPgpWrongPassphrase", error.ErrorId);
                Assert.Equal(FailureKind.AuthenticationFailed, error.Kind);
                Assert.Contains(encrypted, error.Message);
                Assert.DoesNotContain("not the passphrase", error.Message);
                Assert.Equal(new[] { "ours.gpg", "theirs.gpg" }, Directory.GetFiles(_directory).Select(Path.GetFileName).Order());
            }
        }

        [Theory]
        [InlineData("ours")]
        [InlineData("gpg")]
        public async Task TamperedCiphertext_FailsTheIntegrityCheck_AndWritesNothing(string producer)
        {
            var plaintext = Random(200_000, 5);
            var encrypted = producer == "ours" ? await EncryptAsync(plaintext) : GpgEncrypt(plaintext, "-z", "0");
            encrypted[encrypted.Length / 2] ^= 0x01;
            var path = Path.Combine(_directory, "tampered.gpg");
            await File.WriteAllBytesAsync(path, encrypted);

            var error = await Assert.ThrowsAsync<CorruptDataException>(() =>
                OpenPgpFiles.DecryptFileAsync(path, path + ".rdb", S3TestEnvironment.Secure(Passphrase), CancellationToken.None));

            Assert.Contains("modification detection code", error.Message);
            Assert.Equal(path, error.Source);
            Assert.False(File.Exists(path + ".rdb"));
            Assert.Single(Directory.GetFiles(_directory));
            var (exit, _) = await _gpg.RunAsync(Passphrase, "--output", path + ".gpgout", "--decrypt", path);
            Assert.NotEqual(0, exit);
        }

        [Theory]
        [InlineData(10)]
        [InlineData(40)]
        [InlineData(70_000)]
        [InlineData(-1)]
        [InlineData(-21)]
        public async Task TruncatedCiphertext_IsCorruptData_AndWritesNothing(int cutAt)
        {
            var plaintext = Random(100_000, 6);
            var encrypted = await EncryptAsync(plaintext);
            var keep = cutAt > 0 ? cutAt : encrypted.Length + cutAt;
            var path = Path.Combine(_directory, "truncated.gpg");
            await File.WriteAllBytesAsync(path, encrypted.AsSpan(0, keep).ToArray());

            var error = await Assert.ThrowsAsync<CorruptDataException>(() =>
                OpenPgpFiles.DecryptFileAsync(path, path + ".rdb", S3TestEnvironment.Secure(Passphrase), CancellationToken.None));

            Assert.Equal(path, error.Source);
            Assert.InRange(error.Offset, 0, keep);
            Assert.False(File.Exists(path + ".rdb"));
        }

        [Fact]
        public async Task AnUncompletedMessage_IsRefusedByGpg_SoAFailedSourceNeverLooksLikeAWholeBackup()
        {
            var path = Path.Combine(_directory, "unfinished.gpg");
            await using (var file = File.Create(path))
            await using (var encrypting = new OpenPgpEncryptingStream(file, S3TestEnvironment.Secure(Passphrase), FastOptions))
            {
                await encrypting.WriteAsync(Random(200_000, 7));
            }

            var (exit, _) = await _gpg.RunAsync(Passphrase, "--output", path + ".out", "--decrypt", path);
            Assert.NotEqual(0, exit);
            await Assert.ThrowsAsync<CorruptDataException>(() =>
                OpenPgpFiles.DecryptFileAsync(path, path + ".rdb", S3TestEnvironment.Secure(Passphrase), CancellationToken.None));
        }

        [Theory]
        [InlineData("--compress-algo", "bzip2", "BZip2")]
        [InlineData("--cipher-algo", "CAST5", "CAST5")]
        public async Task WhatOnlyGpgReads_IsNotSupported_WithAClearError(string option, string value, string named)
        {
            var path = Path.Combine(_directory, "other.gpg");
            await File.WriteAllBytesAsync(path, GpgEncrypt(Compressible(10_000), option, value));

            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() =>
                OpenPgpFiles.DecryptFileAsync(path, path + ".rdb", S3TestEnvironment.Secure(Passphrase), CancellationToken.None));

            Assert.Equal("OpenPgpNotSupported", error.ErrorId);
            Assert.Equal(FailureKind.NotSupported, error.Kind);
            Assert.Contains(named, error.Message);
            Assert.False(File.Exists(path + ".rdb"));
        }

        [Fact]
        public async Task APlainFile_IsNotMistakenForAnEncryptedOne()
        {
            var error = await Assert.ThrowsAsync<CorruptDataException>(() => OpenPgpDecryptingStream.OpenAsync(
                new MemoryStream(System.Text.Encoding.ASCII.GetBytes("REDIS0011\u00fa\u0009redis-ver")), S3TestEnvironment.Secure(Passphrase),
                "dump.rdb", false, CancellationToken.None));
            Assert.Equal(0, error.Offset);
            Assert.Contains("OpenPGP packet header", error.Message);
        }

        private static async Task<byte[]> EncryptAsync(byte[] plaintext)
        {
            using var output = new MemoryStream();
            await using (var encrypting = new OpenPgpEncryptingStream(output, S3TestEnvironment.Secure(Passphrase), FastOptions, leaveOpen: true))
            {
                await encrypting.WriteAsync(plaintext);
                await encrypting.CompleteAsync(CancellationToken.None);
            }
            return output.ToArray();
        }

        private byte[] GpgEncrypt(byte[] plaintext, params string[] options)
        {
            var source = Path.Combine(_directory, "gpg-input-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(source, plaintext);
            var output = source + ".gpg";
            var arguments = new[] { "--s2k-count", "65536" }.Concat(options).Concat(new[] { "--output", output, "--symmetric", source }).ToArray();
            var (exit, errors) = _gpg.RunAsync(Passphrase, arguments).GetAwaiter().GetResult();
            Assert.True(exit == 0, errors);
            var bytes = File.ReadAllBytes(output);
            File.Delete(source);
            File.Delete(output);
            return bytes;
        }

        private static byte[] Random(int size, int seed)
        {
            var bytes = new byte[size];
            new Random(seed).NextBytes(bytes);
            return bytes;
        }

        private static byte[] Compressible(int size) =>
            Enumerable.Range(0, size).Select(i => (byte)("redis key value "[i % 16] + (i / 4096 % 3))).ToArray();

        private static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
    }
}
