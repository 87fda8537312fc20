using System;

namespace RedisRecovery.Resp
{
    /// <summary>Which protocol to speak: RESP3 via HELLO 3 when the server has it (the default), or RESP2 only.</summary>
    public enum RespProtocolPreference
    {
        Auto,
        Resp2,
    }

    /// <summary>TLS settings; used when the endpoint is rediss:// or <see cref="RedisConnectionOptions.UseTls"/> is set.</summary>
    public sealed class RedisTlsOptions
    {
        /// <summary>A PEM (or DER) file of CA certificates the server certificate must chain to, instead of the system store.</summary>
        public string? CaCertificatePath { get; set; }

        /// <summary>A client certificate: a PFX/PKCS#12 file, or a PEM certificate (key in <see cref="ClientKeyPath"/> or in the same file).</summary>
        public string? ClientCertificatePath { get; set; }

        /// <summary>The PEM private key of the client certificate, when it is not inside <see cref="ClientCertificatePath"/>.</summary>
        public string? ClientKeyPath { get; set; }

        /// <summary>The password of a PFX client certificate.</summary>
        public string? ClientCertificatePassword { get; set; }

        /// <summary>The name sent as SNI and checked against the certificate; default the endpoint's host.</summary>
        public string? ServerName { get; set; }

        /// <summary>Accept any server certificate. Only for tests and emergencies: callers should warn when they set it.</summary>
        public bool SkipCertificateCheck { get; set; }
    }

    public sealed class RedisConnectionOptions
    {
        public RedisConnectionOptions(RedisEndpoint endpoint)
        {
            Endpoint = endpoint ?? throw new ArgumentNullException(nameof(endpoint));
        }

        public RedisEndpoint Endpoint { get; }

        /// <summary>User and password; when null, a credential inside the endpoint URI is used, if any.</summary>
        public RedisCredential? Credential { get; set; }

        /// <summary>Use TLS even though the endpoint is not rediss://.</summary>
        public bool UseTls { get; set; }

        public RedisTlsOptions Tls { get; set; } = new();

        /// <summary>Time allowed for TCP connect, TLS handshake and the login commands together.</summary>
        public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>Longest wait for the server to make progress on a command (each reply resets it); Timeout.InfiniteTimeSpan for none.</summary>
        public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>CLIENT SETNAME value, so operators see who is connected; null sends none.</summary>
        public string? ClientName { get; set; } = "RedisRecovery";

        public RespProtocolPreference Protocol { get; set; } = RespProtocolPreference.Auto;

        /// <summary>The database to SELECT; default the endpoint's (0 unless its URI says otherwise).</summary>
        public int? Database { get; set; }

        /// <summary>
        /// Most bytes of commands a pipeline sends before it waits for replies: bounds memory on both sides
        /// during bulk loads while keeping the link busy.
        /// </summary>
        public long MaxInFlightBytes { get; set; } = 4 * 1024 * 1024;

        /// <summary>Largest bulk reply accepted (a DUMP of a huge key); larger ones are a protocol error.</summary>
        public long MaxBulkLength { get; set; } = RespReader.DefaultMaxBulkLength;

        internal bool TlsEnabled => UseTls || Endpoint.UseTls;

        internal RedisCredential? EffectiveCredential => Credential ?? Endpoint.Credential;

        internal int EffectiveDatabase => Database ?? Endpoint.Database;
    }
}
