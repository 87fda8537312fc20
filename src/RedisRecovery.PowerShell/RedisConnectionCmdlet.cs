using System;
using System.Management.Automation;
using System.Net;
using System.Security;
using RedisRecovery.Resp;

namespace RedisRecovery.PowerShell
{
    /// <summary>
    /// The connection parameters every cmdlet that talks to a live server shares (credential and TLS), in one
    /// place, turned into the engine's <see cref="RedisConnectionOptions"/> for each endpoint.
    /// </summary>
    public abstract class RedisConnectionCmdlet : RedisRecoveryCmdlet
    {
        /// <summary>ACL user and password; user "default" (or a password-only credential) means requirepass.</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>Use TLS even for endpoints that are not rediss://.</summary>
        [Parameter]
        public SwitchParameter UseTls { get; set; }

        /// <summary>PEM file of CA certificates the server certificate must chain to, instead of the system store.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? CaCertificatePath { get; set; }

        /// <summary>Client certificate: a PFX file, or a PEM certificate (key inside or in -ClientKeyPath).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ClientCertificatePath { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ClientKeyPath { get; set; }

        [Parameter]
        public SecureString? ClientCertificatePassword { get; set; }

        /// <summary>The name sent as SNI and checked against the server certificate; default the endpoint's host.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? TlsServerName { get; set; }

        /// <summary>Accept any server certificate (tests and emergencies only; a warning says so).</summary>
        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        protected override void BeginProcessing()
        {
            if (SkipCertificateCheck)
            {
                WriteWarning("-SkipCertificateCheck: the server's TLS certificate is not checked; anyone on the path can impersonate the server.");
            }
        }

        /// <summary>Connection options for one endpoint (a RedisRecoveryException InvalidEndpoint when it does not parse).</summary>
        protected RedisConnectionOptions ConnectionOptionsFor(string endpoint, TimeSpan commandTimeout) =>
            new(RedisEndpoint.Parse(endpoint))
            {
                Credential = Credential == null ? null : ToRedisCredential(Credential),
                UseTls = UseTls,
                Tls = new RedisTlsOptions
                {
                    CaCertificatePath = ResolvePath(CaCertificatePath),
                    ClientCertificatePath = ResolvePath(ClientCertificatePath),
                    ClientKeyPath = ResolvePath(ClientKeyPath),
                    ClientCertificatePassword = ClientCertificatePassword == null ? null : new NetworkCredential(string.Empty, ClientCertificatePassword).Password,
                    ServerName = TlsServerName,
                    SkipCertificateCheck = SkipCertificateCheck,
                },
                CommandTimeout = commandTimeout,
            };

        private static RedisCredential ToRedisCredential(PSCredential credential)
        {
            var user = credential.UserName?.TrimStart('\\');
            var password = credential.GetNetworkCredential().Password;
            return new RedisCredential(string.Equals(user, "default", StringComparison.Ordinal) ? null : user, password);
        }

        private string? ResolvePath(string? path) => path == null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
    }
}
