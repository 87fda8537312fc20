using System;
using System.Management.Automation;
using System.Net;
using System.Security;
using RedisRecovery.Resp;

namespace RedisRecovery.PowerShell
{
    /// <summary>
    /// The connection parameters every cmdlet that talks to a live server shares (credential, TLS, timeout), and
    /// their translation into the engine's connection options.
    /// </summary>
    public abstract class RedisEndpointCmdlet : RedisRecoveryCmdlet
    {
        /// <summary>ACL user and password; user name "default" sends the legacy requirepass password alone.</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>Use TLS for endpoints written as host:port (rediss:// endpoints always do).</summary>
        [Parameter]
        public SwitchParameter UseTls { get; set; }

        /// <summary>A PEM file with the CA certificate(s) the server certificate must chain to.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? CaCertificatePath { get; set; }

        /// <summary>A client certificate: a PFX file, or a PEM certificate (with its key inside or in -ClientKeyPath).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ClientCertificatePath { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ClientKeyPath { get; set; }

        /// <summary>The password of a PFX client certificate.</summary>
        [Parameter]
        public SecureString? ClientCertificatePassword { get; set; }

        /// <summary>Accept any server certificate (writes a warning): for test servers with self-signed certificates.</summary>
        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>Seconds allowed for connecting, the TLS handshake and logging in.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int ConnectTimeout { get; set; } = 10;

        protected override void BeginProcessing()
        {
            if (SkipCertificateCheck)
            {
                WriteWarning("-SkipCertificateCheck: the server certificate is not validated, so the connection can be intercepted. Use -CaCertificatePath instead outside tests.");
            }
        }

        /// <summary>The engine's options for one endpoint, from this cmdlet's parameters.</summary>
        protected RedisConnectionOptions CreateConnectionOptions(RedisEndpoint endpoint) => new(endpoint)
        {
            Credential = Credential is null ? null : ToRedisCredential(Credential),
            UseTls = UseTls || CaCertificatePath != null || ClientCertificatePath != null || SkipCertificateCheck,
            ConnectTimeout = TimeSpan.FromSeconds(ConnectTimeout),
            Tls = new RedisTlsOptions
            {
                CaCertificatePath = ResolvePath(CaCertificatePath),
                ClientCertificatePath = ResolvePath(ClientCertificatePath),
                ClientKeyPath = ResolvePath(ClientKeyPath),
                ClientCertificatePassword = ClientCertificatePassword is null ? null : new NetworkCredential(string.Empty, ClientCertificatePassword).Password,
                SkipCertificateCheck = SkipCertificateCheck,
            },
        };

        private static RedisCredential ToRedisCredential(PSCredential credential)
        {
            var user = credential.UserName;
            var isDefaultUser = string.IsNullOrEmpty(user) || string.Equals(user, "default", StringComparison.Ordinal);
            return new RedisCredential(isDefaultUser ? null : user, credential.GetNetworkCredential().Password);
        }

        private string? ResolvePath(string? path) => path is null ? null : GetUnresolvedProviderPathFromPSPath(path);
    }
}
