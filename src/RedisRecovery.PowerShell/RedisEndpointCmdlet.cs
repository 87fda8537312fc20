using System;
using System.Management.Automation;
using System.Net;
using System.Security;
using RedisRecovery.Resp;

namespace RedisRecovery.PowerShell
{
    /// <summary>
    /// Connection parameters shared by every cmdlet that talks to a live server (credential, TLS, connect timeout)
    /// and their translation into the engine's connection options. Paths are resolved on the pipeline thread.
    /// </summary>
    public abstract class RedisEndpointCmdlet : RedisRecoveryCmdlet
    {
        /// <summary>ACL user and password; the user "default" (or none) sends the requirepass password alone.</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>Use TLS although the endpoint is host:port (rediss:// endpoints always use it).</summary>
        [Parameter]
        public SwitchParameter UseTls { get; set; }

        /// <summary>PEM file of the CA certificates the server certificate must chain to.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? CaCertificatePath { get; set; }

        /// <summary>Client certificate: a PFX file, or a PEM certificate with its key inside or in -ClientKeyPath.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ClientCertificatePath { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ClientKeyPath { get; set; }

        [Parameter]
        public SecureString? ClientCertificatePassword { get; set; }

        /// <summary>Accept any server certificate (a warning says so): only for test servers.</summary>
        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>Seconds allowed to connect, negotiate TLS and log in.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int ConnectTimeout { get; set; } = 10;

        protected override void BeginProcessing()
        {
            if (SkipCertificateCheck)
            {
                WriteWarning("-SkipCertificateCheck: the server certificate is not checked, so the connection can be intercepted. Prefer -CaCertificatePath.");
            }
        }

        /// <summary>The engine's options for <paramref name="endpoint"/> from this cmdlet's parameters (call on the pipeline thread).</summary>
        protected RedisConnectionOptions CreateConnectionOptions(RedisEndpoint endpoint)
        {
            string? Resolve(string? path) => path is null ? null : GetUnresolvedProviderPathFromPSPath(path);
            RedisCredential? credential = null;
            if (Credential != null)
            {
                var user = Credential.UserName;
                var legacy = string.IsNullOrEmpty(user) || string.Equals(user, "default", StringComparison.Ordinal);
                credential = new RedisCredential(legacy ? null : user, Credential.GetNetworkCredential().Password);
            }
            return new RedisConnectionOptions(endpoint)
            {
                Credential = credential,
                UseTls = UseTls || CaCertificatePath != null || ClientCertificatePath != null || SkipCertificateCheck,
                ConnectTimeout = TimeSpan.FromSeconds(ConnectTimeout),
                Tls = new RedisTlsOptions
                {
                    CaCertificatePath = Resolve(CaCertificatePath),
                    ClientCertificatePath = Resolve(ClientCertificatePath),
                    ClientKeyPath = Resolve(ClientKeyPath),
                    ClientCertificatePassword = ClientCertificatePassword is null ? null : new NetworkCredential(string.Empty, ClientCertificatePassword).Password,
                    SkipCertificateCheck = SkipCertificateCheck,
                },
            };
        }
    }
}
