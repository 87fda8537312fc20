using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Security;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage.Encryption
{
    /// <summary>
    /// Reads the plaintext of a passphrase-encrypted OpenPGP message (what `gpg -c` writes, and
    /// <see cref="OpenPgpEncryptingStream"/>): SKESK v4 with S2K, AES-128/192/256, integrity-protected data, optionally
    /// ZIP/ZLIB-compressed. Streams in constant memory. A wrong passphrase fails in <see cref="OpenAsync"/>; a modified or
    /// truncated file fails when the end is read, before end-of-stream is reported: write to a temporary file and keep it
    /// only after reading to the end (as <see cref="OpenPgpFiles.DecryptFileAsync"/> does).
    /// </summary>
    public sealed class OpenPgpDecryptingStream : ForwardOnlyStream
    {
        private readonly Stream _ciphertext;
        private readonly bool _leaveOpen;
        private readonly IntegrityProtectedStream _protected;
        private readonly List<Stream> _innerLayers;
        private readonly Stream _literal;
        private bool _finished;

        private OpenPgpDecryptingStream(Stream ciphertext, bool leaveOpen, IntegrityProtectedStream protectedData, List<Stream> innerLayers,
            Stream literal, string cipher, string? compression, string fileName)
        {
            _ciphertext = ciphertext;
            _leaveOpen = leaveOpen;
            _protected = protectedData;
            _innerLayers = innerLayers;
            _literal = literal;
            CipherAlgorithm = cipher;
            Compression = compression;
            FileName = fileName;
        }

        /// <summary>AES128, AES192 or AES256.</summary>
        public string CipherAlgorithm { get; }

        /// <summary>ZIP or ZLIB when the data was compressed, else null.</summary>
        public string? Compression { get; }

        /// <summary>The file name recorded in the message (gpg records the input's name; may be empty).</summary>
        public string FileName { get; }

        public override bool CanRead => true;

        public override bool CanWrite => false;

        /// <summary>
        /// Reads the message's headers up to the first plaintext byte; <paramref name="sourceName"/> names the file in errors.
        /// Throws OpenPgpWrongPassphrase when no session key decrypts the data, OpenPgpNotSupported for what needs gpg
        /// (public-key encryption, CAST5, AEAD, BZip2...), CorruptData for anything malformed.
        /// </summary>
        public static async Task<OpenPgpDecryptingStream> OpenAsync(Stream ciphertext, SecureString passphrase, string sourceName,
            bool leaveOpen, CancellationToken cancellationToken)
        {
            var counted = new CountingReadStream(ciphertext);
            var opener = new Opener(counted, sourceName);
            try
            {
                return await opener.OpenAsync(ciphertext, passphrase, leaveOpen, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                if (!leaveOpen)
                {
                    ciphertext.Dispose();
                }
                throw;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadCoreAsync(buffer, offset, count, useAsync: false, CancellationToken.None).GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadCoreAsync(buffer, offset, count, useAsync: true, cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                for (var i = _innerLayers.Count - 1; i >= 0; i--)
                {
                    _innerLayers[i].Dispose();
                }
                _protected.Dispose();
                if (!_leaveOpen)
                {
                    _ciphertext.Dispose();
                }
            }
            base.Dispose(disposing);
        }

        private async ValueTask<int> ReadCoreAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            if (_finished || count == 0)
            {
                return 0;
            }
            var read = await StreamReading.ReadAsync(_literal, buffer, offset, count, useAsync, cancellationToken).ConfigureAwait(false);
            if (read > 0)
            {
                return read;
            }
            // The literal data ended: read every layer to its end, so the integrity check runs before end-of-stream is reported.
            for (var i = _innerLayers.Count - 1; i >= 0; i--)
            {
                await StreamReading.DrainAsync(_innerLayers[i], useAsync, cancellationToken).ConfigureAwait(false);
            }
            await StreamReading.DrainAsync(_protected, useAsync, cancellationToken).ConfigureAwait(false);
            _finished = true;
            return 0;
        }

        /// <summary>Reads the packets in front of the plaintext: key packets, the encrypted packet, compression, literal header.</summary>
        private sealed class Opener
        {
            private readonly CountingReadStream _file;
            private readonly string _source;

            public Opener(CountingReadStream file, string source)
            {
                _file = file;
                _source = source;
            }

            public async Task<OpenPgpDecryptingStream> OpenAsync(Stream original, SecureString passphrase, bool leaveOpen, CancellationToken cancellationToken)
            {
                var keyPackets = new List<byte[]>();
                while (true)
                {
                    var header = await OpenPgpPackets.ReadHeaderAsync(_file, _source, () => _file.Consumed, true, cancellationToken).ConfigureAwait(false)
                        ?? throw OpenPgpErrors.Corrupt(_source, _file.Consumed,
                            keyPackets.Count == 0 ? "an OpenPGP message, but the file is empty" : "an encrypted data packet after the key packets");
                    var body = new PacketBodyStream(_file, header, _source, () => _file.Consumed);
                    switch (header.Tag)
                    {
                        case OpenPgpPackets.Marker:
                            await StreamReading.DrainAsync(body, true, cancellationToken).ConfigureAwait(false);
                            continue;
                        case OpenPgpPackets.SymmetricKeyEncryptedSessionKey:
                            keyPackets.Add(await ReadSmallBodyAsync(body, header, cancellationToken).ConfigureAwait(false));
                            continue;
                        case 1:
                            throw OpenPgpErrors.Unsupported(_source, "a message encrypted to a public key");
                        case OpenPgpPackets.SymmetricallyEncrypted:
                            throw OpenPgpErrors.Unsupported(_source, "encrypted data without integrity protection (a legacy packet type 9)");
                        case 20:
                            throw OpenPgpErrors.Unsupported(_source, "AEAD-encrypted data (packet type 20)");
                        case OpenPgpPackets.IntegrityProtected:
                            if (keyPackets.Count == 0)
                            {
                                throw OpenPgpErrors.Unsupported(_source, "encrypted data without a passphrase packet (a public-key or session-key message)");
                            }
                            return await OpenProtectedAsync(original, leaveOpen, body, header, keyPackets, passphrase, cancellationToken).ConfigureAwait(false);
                        default:
                            throw OpenPgpErrors.Corrupt(_source, header.Offset,
                                $"a passphrase-encrypted OpenPGP message (key and encrypted-data packets), found packet type {header.Tag}");
                    }
                }
            }

            private async Task<OpenPgpDecryptingStream> OpenProtectedAsync(Stream original, bool leaveOpen, PacketBodyStream body, PacketHeader header,
                List<byte[]> keyPackets, SecureString passphrase, CancellationToken cancellationToken)
            {
                var version = await OpenPgpPackets.ReadExactAsync(body, 1, _source, () => _file.Consumed, "the encrypted data's version", true, cancellationToken)
                    .ConfigureAwait(false);
                if (version[0] != 1)
                {
                    throw OpenPgpErrors.Unsupported(_source, $"integrity-protected data version {version[0]} (AEAD)");
                }
                var prefixLength = OpenPgpCfb.BlockSize + 2;
                var prefix = await OpenPgpPackets.ReadExactAsync(body, prefixLength, _source, () => _file.Consumed, "the encrypted data's random prefix", true,
                    cancellationToken).ConfigureAwait(false);
                var cipherName = string.Empty;
                OpenPgpCfb? cfb = null;
                byte[]? decryptedPrefix = null;
                var passphraseBytes = OpenPgpKeys.Utf8(passphrase);
                try
                {
                    foreach (var keyPacket in keyPackets)
                    {
                        var (cipher, key) = SessionKey(keyPacket, passphraseBytes, header.Offset);
                        var candidate = new OpenPgpCfb(key);
                        Array.Clear(key, 0, key.Length);
                        var trial = (byte[])prefix.Clone();
                        candidate.Decrypt(trial, 0, trial.Length);
                        // The quick check: the prefix's last two random bytes repeat (RFC 4880 §5.13).
                        if (trial[prefixLength - 4] == trial[prefixLength - 2] && trial[prefixLength - 3] == trial[prefixLength - 1])
                        {
                            cfb = candidate;
                            decryptedPrefix = trial;
                            cipherName = OpenPgpKeys.CipherName(cipher);
                            break;
                        }
                        candidate.Dispose();
                    }
                }
                finally
                {
                    Array.Clear(passphraseBytes, 0, passphraseBytes.Length);
                }
                if (cfb == null)
                {
                    throw new RedisRecoveryException(OpenPgpErrors.WrongPassphrase, FailureKind.AuthenticationFailed,
                        $"{_source}: the passphrase does not decrypt this file (the OpenPGP quick check failed).") { Target = _source };
                }
                var protectedData = new IntegrityProtectedStream(body, cfb, decryptedPrefix!, _source, () => _file.Consumed);
                var layers = new List<Stream>();
                string? compression = null;
                // Inside the encrypted data, offsets count decrypted bytes (before decompression).
                Func<long> decryptedOffset = () => protectedData.DecryptedOffset;
                Stream current = protectedData;
                var inner = await OpenPgpPackets.ReadHeaderAsync(current, _source, decryptedOffset, true, cancellationToken).ConfigureAwait(false);
                if (inner?.Tag == OpenPgpPackets.Compressed)
                {
                    var compressedBody = new PacketBodyStream(current, inner.Value, _source, decryptedOffset);
                    layers.Add(compressedBody);
                    var algorithm = await OpenPgpPackets.ReadExactAsync(compressedBody, 1, _source, decryptedOffset, "the compression algorithm", true,
                        cancellationToken).ConfigureAwait(false);
                    (current, compression) = await DecompressorAsync(algorithm[0], compressedBody, decryptedOffset, cancellationToken).ConfigureAwait(false);
                    if (current != compressedBody)
                    {
                        layers.Add(current);
                    }
                    inner = await OpenPgpPackets.ReadHeaderAsync(current, _source, decryptedOffset, true, cancellationToken).ConfigureAwait(false);
                }
                if (inner?.Tag != OpenPgpPackets.LiteralData)
                {
                    throw OpenPgpErrors.Corrupt(_source, inner?.Offset ?? -1,
                        $"a literal data packet inside the decrypted data, found {(inner == null ? "nothing" : "packet type " + inner.Value.Tag)}");
                }
                var literal = new PacketBodyStream(current, inner.Value, _source, decryptedOffset);
                var fields = await OpenPgpPackets.ReadExactAsync(literal, 2, _source, decryptedOffset, "the literal data header", true, cancellationToken)
                    .ConfigureAwait(false);
                var name = await OpenPgpPackets.ReadExactAsync(literal, fields[1], _source, decryptedOffset, "the literal data file name", true, cancellationToken)
                    .ConfigureAwait(false);
                await OpenPgpPackets.ReadExactAsync(literal, 4, _source, decryptedOffset, "the literal data date", true, cancellationToken).ConfigureAwait(false);
                return new OpenPgpDecryptingStream(original, leaveOpen, protectedData, layers, literal, cipherName, compression,
                    Encoding.UTF8.GetString(name));
            }

            private async Task<(Stream Stream, string? Name)> DecompressorAsync(byte algorithm, PacketBodyStream compressedBody, Func<long> offset,
                CancellationToken cancellationToken)
            {
                switch (algorithm)
                {
                    case 0:
                        return (compressedBody, null);
                    case 1:
                        return (new DeflateStream(compressedBody, CompressionMode.Decompress, leaveOpen: true), "ZIP");
                    case 2:
                        // ZLIB = a two-byte header, raw deflate, an Adler-32 trailer; the MDC already guards integrity.
                        var zlibHeader = await OpenPgpPackets.ReadExactAsync(compressedBody, 2, _source, offset, "the ZLIB header", true, cancellationToken)
                            .ConfigureAwait(false);
                        if ((zlibHeader[0] & 0x0F) != 8 || ((zlibHeader[0] << 8) | zlibHeader[1]) % 31 != 0 || (zlibHeader[1] & 0x20) != 0)
                        {
                            throw OpenPgpErrors.Corrupt(_source, -1, "a ZLIB stream header (deflate, no preset dictionary)");
                        }
                        return (new DeflateStream(compressedBody, CompressionMode.Decompress, leaveOpen: true), "ZLIB");
                    case 3:
                        throw OpenPgpErrors.Unsupported(_source, "BZip2-compressed data");
                    default:
                        throw OpenPgpErrors.Unsupported(_source, $"compression algorithm {algorithm}");
                }
            }

            private async Task<byte[]> ReadSmallBodyAsync(PacketBodyStream body, PacketHeader header, CancellationToken cancellationToken)
            {
                if (header.Kind != BodyLength.Definite || header.Length > 1024)
                {
                    throw OpenPgpErrors.Corrupt(_source, header.Offset, "a small passphrase packet with a definite length");
                }
                return await OpenPgpPackets.ReadExactAsync(body, (int)header.Length, _source, () => _file.Consumed, "the passphrase packet", true,
                    cancellationToken).ConfigureAwait(false);
            }

            /// <summary>Decodes a SKESK v4 packet (RFC 4880 §5.3) into the cipher and session key the passphrase gives.</summary>
            private (byte Cipher, byte[] Key) SessionKey(byte[] packet, byte[] passphrase, long offset)
            {
                if (packet.Length < 4)
                {
                    throw OpenPgpErrors.Corrupt(_source, offset, "a complete passphrase packet");
                }
                if (packet[0] != 4)
                {
                    throw OpenPgpErrors.Unsupported(_source, $"a version {packet[0]} passphrase packet (only version 4 is)");
                }
                var cipher = packet[1];
                var keyLength = OpenPgpKeys.KeyLength(cipher, _source);
                var s2kType = packet[2];
                var hash = OpenPgpKeys.Hash(packet[3], _source);
                int next;
                byte[]? salt = null;
                long count = 0;
                switch (s2kType)
                {
                    case 0:
                        next = 4;
                        break;
                    case 1 or 3 when packet.Length >= 12 + (s2kType == 3 ? 1 : 0):
                        salt = new byte[8];
                        Buffer.BlockCopy(packet, 4, salt, 0, 8);
                        count = s2kType == 3 ? OpenPgpKeys.DecodeCount(packet[12]) : 0;
                        next = s2kType == 3 ? 13 : 12;
                        break;
                    case 1 or 3:
                        throw OpenPgpErrors.Corrupt(_source, offset, "a complete S2K specifier");
                    default:
                        throw OpenPgpErrors.Unsupported(_source, $"S2K type {s2kType}");
                }
                var key = OpenPgpKeys.DeriveKey(passphrase, hash, salt, count, keyLength);
                if (next == packet.Length)
                {
                    return (cipher, key);
                }
                // An encrypted session key: the derived key decrypts (algorithm || session key) with CFB from a zero IV.
                var encrypted = new byte[packet.Length - next];
                Buffer.BlockCopy(packet, next, encrypted, 0, encrypted.Length);
                using (var cfb = new OpenPgpCfb(key))
                {
                    cfb.Decrypt(encrypted, 0, encrypted.Length);
                }
                Array.Clear(key, 0, key.Length);
                var sessionCipher = encrypted[0];
                var sessionKey = new byte[encrypted.Length - 1];
                Buffer.BlockCopy(encrypted, 1, sessionKey, 0, sessionKey.Length);
                Array.Clear(encrypted, 0, encrypted.Length);
                if (sessionCipher is not (OpenPgpKeys.Aes128 or OpenPgpKeys.Aes192 or OpenPgpKeys.Aes256) || sessionKey.Length != OpenPgpKeys.KeyLength(sessionCipher, _source))
                {
                    // A wrong passphrase decrypts the session key to noise: report it as such, not as an unknown cipher.
                    return (cipher, sessionKey.Length == keyLength ? sessionKey : new byte[keyLength]);
                }
                return (sessionCipher, sessionKey);
            }
        }
    }
}
