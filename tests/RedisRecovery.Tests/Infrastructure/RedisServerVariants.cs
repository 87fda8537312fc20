namespace RedisRecovery.Tests.Infrastructure
{
    /// <summary>Ready-made server configurations: the kinds of servers users point the module at.</summary>
    public static class RedisServerVariants
    {
        public const string Password = "s3cret-Pa55word";
        public const string AclUser = "alice";
        public const string AclPassword = "al1ce-Secret";

        /// <summary>Commands a managed service (ElastiCache, Azure Cache, Redis Cloud...) hides from its users.</summary>
        public static readonly string[] ManagedServiceHiddenCommands = { "CONFIG", "SYNC", "PSYNC", "BGSAVE", "DEBUG" };

        public static RedisServerOptions WithArguments(this RedisServerOptions options, params string[] arguments)
        {
            options.Arguments.AddRange(arguments);
            return options;
        }

        /// <summary>A legacy requirepass password on the default user.</summary>
        public static RedisServerOptions RequirePass(this RedisServerOptions options, string password = Password)
        {
            options.ConfigLines.Add($"requirepass {password}");
            return options;
        }

        /// <summary>An ACL user with every command and key; the default user is left as is (add RequirePass to lock it).</summary>
        public static RedisServerOptions WithAclUser(this RedisServerOptions options, string user = AclUser, string password = AclPassword, string permissions = "~* &* +@all")
        {
            options.ConfigLines.Add($"user {user} on >{password} {permissions}");
            return options;
        }

        /// <summary>Renames the given commands to nothing, as managed services do.</summary>
        public static RedisServerOptions AsManagedService(this RedisServerOptions options, params string[] hiddenCommands)
        {
            foreach (var command in hiddenCommands.Length == 0 ? ManagedServiceHiddenCommands : hiddenCommands)
            {
                options.ConfigLines.Add($"rename-command {command} \"\"");
            }
            return options;
        }

        /// <summary>TLS only (plain port closed), with the server certificate of <paramref name="certificates"/>.</summary>
        public static RedisServerOptions WithTls(this RedisServerOptions options, TestCertificates certificates, bool requireClientCertificate = false)
        {
            options.TlsOnly = true;
            options.Arguments.AddRange(new[]
            {
                "--tls-cert-file", certificates.ServerCertificate,
                "--tls-key-file", certificates.ServerKey,
                "--tls-ca-cert-file", certificates.CaCertificate,
                "--tls-auth-clients", requireClientCertificate ? "yes" : "no",
            });
            return options;
        }
    }
}
