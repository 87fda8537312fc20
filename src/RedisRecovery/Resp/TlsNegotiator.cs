using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// Loads the certificates when created (so a bad file fails before any connection is made) and wraps a
    /// connected stream in TLS: validates the server certificate (system store, or a given CA file),
    /// offers a client certificate, sends SNI, and remembers why validation failed so the error can say it.
    /// </summary>
    internal sealed class TlsNegotiator
    {
        private readonly RedisTlsOptions _options;
        private readonly string _serverName;
        private readonly string _address;
        private readonly X509Certificate2Collection? _trustedCas;
        private readonly X509Certificate2Collection _clientCertificates = new();
        private string? _rejection;

        public TlsNegotiator(RedisTlsOptions options, RedisEndpoint endpoint)
        {
            _options = options;
            _serverName = options.ServerName ?? endpoint.Host ?? "localhost";
            _address = endpoint.Address;
            _trustedCas = options.CaCertificatePath is { } caPath ? LoadCertificates(caPath) : null;
            if (options.ClientCertificatePath is { } certificatePath)
            {
                _clientCertificates.Add(LoadClientCertificate(certificatePath, options.ClientKeyPath, options.ClientCertificatePassword));
            }
        }

        public async Task<SslStream> AuthenticateAsync(Stream transport, CancellationToken cancellationToken)
        {
            var ssl = new SslStream(transport, leaveInnerStreamOpen: false, ValidateServerCertificate);
            try
            {
#if NET8_0_OR_GREATER
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = _serverName,
                    ClientCertificates = _clientCertificates,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                }, cancellationToken).ConfigureAwait(false);
#else
                using (cancellationToken.Register(ssl.Dispose))
                {
                    await ssl.AuthenticateAsClientAsync(_serverName, _clientCertificates, SslProtocols.None, checkCertificateRevocation: false).ConfigureAwait(false);
                }
#endif
                return ssl;
            }
            catch (Exception exception) when (exception is AuthenticationException or IOException && !cancellationToken.IsCancellationRequested)
            {
                ssl.Dispose();
                var reason = _rejection ?? $"{exception.Message} (is this a TLS port? does the server require a client certificate?)";
                throw new RedisConnectionException(RedisErrorIds.TlsHandshakeFailed, FailureKind.SecurityError,
                    $"TLS handshake with {_address} failed: {reason}", exception);
            }
            catch
            {
                ssl.Dispose();
                throw;
            }
        }

        private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (_options.SkipCertificateCheck)
            {
                return true;
            }
            if (certificate is null)
            {
                _rejection = "the server sent no certificate.";
                return false;
            }
            using var serverCertificate = new X509Certificate2(certificate);
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                _rejection = $"the server certificate ({serverCertificate.Subject}) is not issued for the name '{_serverName}' (name mismatch).";
                return false;
            }
            if (_trustedCas != null)
            {
                return ChainsToTrustedCa(serverCertificate, chain);
            }
            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                _rejection = $"the server certificate ({serverCertificate.Subject}, issued by {serverCertificate.Issuer}) is not trusted: {Describe(chain)}. Pass the CA certificate that signed it.";
                return false;
            }
            return errors == SslPolicyErrors.None;
        }

        private bool ChainsToTrustedCa(X509Certificate2 serverCertificate, X509Chain? presented)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (presented != null)
            {
                foreach (var element in presented.ChainElements)
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
#if NET8_0_OR_GREATER
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_trustedCas!);
            var trusted = chain.Build(serverCertificate);
#else
            // No custom trust store here: build allowing an unknown root, then require the root to be one of ours.
            chain.ChainPolicy.ExtraStore.AddRange(_trustedCas!);
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
            var root = chain.Build(serverCertificate) ? chain.ChainElements[chain.ChainElements.Count - 1].Certificate : null;
            var trusted = root != null && _trustedCas!.Cast<X509Certificate2>().Any(ca => ca.Thumbprint == root.Thumbprint);
#endif
            if (!trusted)
            {
                _rejection = $"the server certificate ({serverCertificate.Subject}, issued by {serverCertificate.Issuer}) does not chain to a CA in '{_options.CaCertificatePath}': {Describe(chain)}.";
            }
            return trusted;
        }

        private static string Describe(X509Chain? chain)
        {
            if (chain is null || chain.ChainStatus.Length == 0)
            {
                return "untrusted certificate chain";
            }
            return string.Join("; ", chain.ChainStatus.Select(status => $"{status.Status} ({status.StatusInformation.Trim()})").Distinct());
        }

        /// <summary>Every certificate in a PEM file (or the one in a DER file).</summary>
        internal static X509Certificate2Collection LoadCertificates(string path)
        {
            var collection = new X509Certificate2Collection();
            foreach (var der in ReadCertificateBlocks(path))
            {
                collection.Add(new X509Certificate2(der));
            }
            if (collection.Count == 0)
            {
                throw InvalidTls($"'{path}' holds no certificate.");
            }
            return collection;
        }

        private static IEnumerable<byte[]> ReadCertificateBlocks(string path)
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw InvalidTls($"Cannot read the certificate file '{path}': {exception.Message}");
            }
            const string Begin = "-----BEGIN CERTIFICATE-----";
            const string End = "-----END CERTIFICATE-----";
            var text = Encoding.ASCII.GetString(bytes);
            if (text.IndexOf(Begin, StringComparison.Ordinal) < 0)
            {
                yield return bytes;
                yield break;
            }
            var blocks = new List<byte[]>();
            for (var start = text.IndexOf(Begin, StringComparison.Ordinal); start >= 0; start = text.IndexOf(Begin, start + Begin.Length, StringComparison.Ordinal))
            {
                var end = text.IndexOf(End, start, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw InvalidTls($"'{path}' has a certificate without '{End}'.");
                }
                var body = text.Substring(start + Begin.Length, end - start - Begin.Length);
                try
                {
                    blocks.Add(Convert.FromBase64String(body.Replace("\r", string.Empty).Replace("\n", string.Empty).Trim()));
                }
                catch (FormatException)
                {
                    throw InvalidTls($"'{path}' has a certificate that is not valid base64.");
                }
            }
            foreach (var block in blocks)
            {
                yield return block;
            }
        }

        private static X509Certificate2 LoadClientCertificate(string certificatePath, string? keyPath, string? password)
        {
            var extension = Path.GetExtension(certificatePath).ToLowerInvariant();
            try
            {
                if (extension is ".pfx" or ".p12")
                {
                    return new X509Certificate2(certificatePath, password, X509KeyStorageFlags.Exportable);
                }
#if NET8_0_OR_GREATER
                using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath ?? certificatePath);
                // SChannel cannot use a key that only lives in memory; a PKCS#12 round trip gives it a usable one.
                return new X509Certificate2(pem.Export(X509ContentType.Pkcs12));
#else
                throw new RedisRecoveryException(RedisErrorIds.NotSupported, FailureKind.NotSupported,
                    $"A PEM client certificate ('{certificatePath}') needs PowerShell 7; on Windows PowerShell 5.1 convert it to PFX (openssl pkcs12 -export).");
#endif
            }
            catch (Exception exception) when (exception is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
            {
                throw InvalidTls($"Cannot load the client certificate '{certificatePath}'{(keyPath is null ? string.Empty : $" with key '{keyPath}'")}: {exception.Message}");
            }
        }

        private static RedisRecoveryException InvalidTls(string message) =>
            new(RedisErrorIds.TlsConfigurationInvalid, FailureKind.InvalidArgument, message);
    }
}
