using System;
using System.IO;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage.Encryption
{
    /// <summary>How <see cref="OpenPgpEncryptingStream"/> encrypts; the defaults match what `gpg -c --cipher-algo AES256` needs.</summary>
    public sealed class OpenPgpEncryptionOptions
    {
        /// <summary>Bytes hashed to derive the key from the passphrase (S2K count; rounded up to a codable value, max 65011712).</summary>
        public long KeyDerivationBytes { get; set; } = 65011712;

        /// <summary>The file name recorded in the message (gpg uses it with --use-embedded-filename); empty by default.</summary>
        public string FileName { get; set; } = string.Empty;
    }

    /// <summary>
    /// Writes a passphrase-encrypted OpenPGP message that `gpg --decrypt` reads: a SKESK v4 packet (iterated and salted
    /// S2K with SHA-256, AES-256), then an integrity-protected packet (SEIPD v1, MDC with SHA-1) holding a literal data
    /// packet. Both packets use partial body lengths, so any amount of data streams through in constant memory. Write
    /// the plaintext, call <see cref="CompleteAsync"/> (which writes the end of the message), then dispose.
    /// </summary>
    public sealed class OpenPgpEncryptingStream : ForwardOnlyStream
    {
        private const int ChunkBits = 16;
        private readonly Stream _output;
        private readonly bool _leaveOpen;
        private readonly PartialLengthPacketWriter _outer;
        private readonly PartialLengthPacketWriter _literal;
        private readonly byte[] _skesk;
        private readonly byte[] _prefix;
        private readonly byte[] _literalHeader;
        private readonly OpenPgpCfb _cfb;
        private readonly IncrementalHash _mdc = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        private readonly byte[] _scratch = new byte[1 << ChunkBits];
        private bool _started;
        private bool _completed;
        private bool _released;

        public OpenPgpEncryptingStream(Stream output, SecureString passphrase, OpenPgpEncryptionOptions? options = null, bool leaveOpen = false)
        {
            options ??= new OpenPgpEncryptionOptions();
            _output = output;
            _leaveOpen = leaveOpen;
            var salt = new byte[8];
            var random = new byte[OpenPgpCfb.BlockSize];
            using (var generator = RandomNumberGenerator.Create())
            {
                generator.GetBytes(salt);
                generator.GetBytes(random);
            }
            var coded = OpenPgpKeys.EncodeCount(options.KeyDerivationBytes);
            var passphraseBytes = OpenPgpKeys.Utf8(passphrase);
            byte[] key;
            try
            {
                key = OpenPgpKeys.DeriveKey(passphraseBytes, HashAlgorithmName.SHA256, salt, OpenPgpKeys.DecodeCount(coded), 32);
            }
            finally
            {
                Array.Clear(passphraseBytes, 0, passphraseBytes.Length);
            }
            _cfb = new OpenPgpCfb(key);
            Array.Clear(key, 0, key.Length);

            // SKESK v4: version, cipher, S2K type 3 (iterated+salted), hash, salt, coded count; no encrypted session key.
            _skesk = new byte[2 + 13];
            _skesk[0] = 0xC0 | OpenPgpPackets.SymmetricKeyEncryptedSessionKey;
            _skesk[1] = 13;
            _skesk[2] = 4;
            _skesk[3] = OpenPgpKeys.Aes256;
            _skesk[4] = 3;
            _skesk[5] = OpenPgpKeys.Sha256;
            Buffer.BlockCopy(salt, 0, _skesk, 6, 8);
            _skesk[14] = coded;

            _prefix = new byte[OpenPgpCfb.BlockSize + 2];
            Buffer.BlockCopy(random, 0, _prefix, 0, random.Length);
            _prefix[16] = random[14];
            _prefix[17] = random[15];

            var name = Encoding.UTF8.GetBytes(options.FileName);
            if (name.Length > 255)
            {
                throw new RedisRecoveryException("OpenPgpInvalidOptions", FailureKind.InvalidArgument, "The file name to record is longer than 255 bytes.");
            }
            // Literal data header: binary format, the name, a zero date (the backup's own metadata carries its time).
            _literalHeader = new byte[2 + name.Length + 4];
            _literalHeader[0] = (byte)'b';
            _literalHeader[1] = (byte)name.Length;
            Buffer.BlockCopy(name, 0, _literalHeader, 2, name.Length);

            _outer = new PartialLengthPacketWriter(OpenPgpPackets.IntegrityProtected, ChunkBits,
                (buffer, offset, count, useAsync, token) => StreamReading.WriteAsync(_output, buffer, offset, count, useAsync, token));
            _literal = new PartialLengthPacketWriter(OpenPgpPackets.LiteralData, ChunkBits, EncryptAsync);
        }

        /// <summary>
        /// A readable stream of the encrypted message of <paramref name="plaintext"/>, encrypted as it is read (for an
        /// upload straight from a backup source). The message ends only if the plaintext ends normally.
        /// </summary>
        public static Stream CreateReader(Stream plaintext, SecureString passphrase, OpenPgpEncryptionOptions? options = null, bool leaveOpen = false) =>
            new OpenPgpEncryptingReader(plaintext, passphrase, options, leaveOpen);

        public override bool CanRead => false;

        public override bool CanWrite => !_completed;

        public override void Write(byte[] buffer, int offset, int count) =>
            WriteCoreAsync(buffer, offset, count, useAsync: false, CancellationToken.None).GetAwaiter().GetResult();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteCoreAsync(buffer, offset, count, useAsync: true, cancellationToken).AsTask();

        /// <summary>
        /// Writes the end of the message (last chunks and the integrity code) and flushes the output. Disposing without
        /// completing leaves an unfinished message that gpg refuses, on purpose: a source that failed halfway must not
        /// turn into a well-formed encrypted file holding half a backup.
        /// </summary>
        public async Task CompleteAsync(CancellationToken cancellationToken) =>
            await CompleteCoreAsync(useAsync: true, cancellationToken).ConfigureAwait(false);

        /// <summary>The synchronous <see cref="CompleteAsync"/>.</summary>
        public void Complete() => CompleteCoreAsync(useAsync: false, CancellationToken.None).GetAwaiter().GetResult();

        public override void Flush() => _output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_released)
            {
                _released = true;
                _mdc.Dispose();
                _cfb.Dispose();
                if (!_leaveOpen)
                {
                    _output.Dispose();
                }
            }
            base.Dispose(disposing);
        }

        private async ValueTask WriteCoreAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            if (_completed)
            {
                throw new ObjectDisposedException(nameof(OpenPgpEncryptingStream), "The message is already complete.");
            }
            await StartAsync(useAsync, cancellationToken).ConfigureAwait(false);
            await _literal.WriteAsync(buffer, offset, count, useAsync, cancellationToken).ConfigureAwait(false);
        }

        private async ValueTask StartAsync(bool useAsync, CancellationToken cancellationToken)
        {
            if (_started)
            {
                return;
            }
            _started = true;
            await StreamReading.WriteAsync(_output, _skesk, 0, _skesk.Length, useAsync, cancellationToken).ConfigureAwait(false);
            await _outer.WriteAsync(new byte[] { 1 }, 0, 1, useAsync, cancellationToken).ConfigureAwait(false);
            await EncryptAsync(_prefix, 0, _prefix.Length, useAsync, cancellationToken).ConfigureAwait(false);
            await _literal.WriteAsync(_literalHeader, 0, _literalHeader.Length, useAsync, cancellationToken).ConfigureAwait(false);
        }

        private async ValueTask CompleteCoreAsync(bool useAsync, CancellationToken cancellationToken)
        {
            if (_completed)
            {
                return;
            }
            _completed = true;
            await StartAsync(useAsync, cancellationToken).ConfigureAwait(false);
            await _literal.CompleteAsync(useAsync, cancellationToken).ConfigureAwait(false);
            var mdcHeader = new byte[] { 0xD3, 0x14 };
            await EncryptAsync(mdcHeader, 0, mdcHeader.Length, useAsync, cancellationToken).ConfigureAwait(false);
            var digest = _mdc.GetHashAndReset();
            _cfb.Encrypt(digest, 0, digest.Length);
            await _outer.WriteAsync(digest, 0, digest.Length, useAsync, cancellationToken).ConfigureAwait(false);
            await _outer.CompleteAsync(useAsync, cancellationToken).ConfigureAwait(false);
            if (useAsync)
            {
                await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _output.Flush();
            }
        }

        /// <summary>Hashes plaintext for the MDC, encrypts it and hands it to the outer packet.</summary>
        private async ValueTask EncryptAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            while (count > 0)
            {
                var take = Math.Min(count, _scratch.Length);
                _mdc.AppendData(buffer, offset, take);
                Buffer.BlockCopy(buffer, offset, _scratch, 0, take);
                _cfb.Encrypt(_scratch, 0, take);
                await _outer.WriteAsync(_scratch, 0, take, useAsync, cancellationToken).ConfigureAwait(false);
                offset += take;
                count -= take;
            }
        }
    }

    internal delegate ValueTask ByteSink(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken);

    /// <summary>
    /// Frames one packet of unknown length: full chunks of 2^bits bytes go out with a partial body length, and the rest
    /// with a definite length on completion (RFC 4880 §4.2.2.4). A chunk is sent only once more data follows it, so the
    /// last length is never a useless zero.
    /// </summary>
    internal sealed class PartialLengthPacketWriter
    {
        private readonly int _tag;
        private readonly int _bits;
        private readonly ByteSink _sink;
        private readonly byte[] _chunk;
        private readonly byte[] _length = new byte[6];
        private int _filled;
        private bool _tagWritten;

        public PartialLengthPacketWriter(int tag, int bits, ByteSink sink)
        {
            _tag = tag;
            _bits = bits;
            _sink = sink;
            _chunk = new byte[1 << bits];
        }

        public async ValueTask WriteAsync(byte[] buffer, int offset, int count, bool useAsync, CancellationToken cancellationToken)
        {
            while (count > 0)
            {
                if (_filled == _chunk.Length)
                {
                    var header = Header(out var at);
                    header[at++] = (byte)(0xE0 | _bits);
                    await _sink(header, 0, at, useAsync, cancellationToken).ConfigureAwait(false);
                    await _sink(_chunk, 0, _filled, useAsync, cancellationToken).ConfigureAwait(false);
                    _filled = 0;
                }
                var take = Math.Min(count, _chunk.Length - _filled);
                Buffer.BlockCopy(buffer, offset, _chunk, _filled, take);
                _filled += take;
                offset += take;
                count -= take;
            }
        }

        public async ValueTask CompleteAsync(bool useAsync, CancellationToken cancellationToken)
        {
            var header = Header(out var at);
            var lengthBytes = new byte[5];
            var size = OpenPgpPackets.EncodeDefiniteLength(_filled, lengthBytes);
            Buffer.BlockCopy(lengthBytes, 0, header, at, size);
            await _sink(header, 0, at + size, useAsync, cancellationToken).ConfigureAwait(false);
            await _sink(_chunk, 0, _filled, useAsync, cancellationToken).ConfigureAwait(false);
            _filled = 0;
        }

        private byte[] Header(out int used)
        {
            used = 0;
            if (!_tagWritten)
            {
                _length[used++] = (byte)(0xC0 | _tag);
                _tagWritten = true;
            }
            return _length;
        }
    }
}
