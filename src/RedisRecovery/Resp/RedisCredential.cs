using System;
using System.Diagnostics;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// An ACL user and password, or a legacy requirepass password (no user). The password is reachable only inside
    /// the engine: it is not a public property, so neither ToString, the debugger nor PowerShell formatting shows it.
    /// </summary>
    [DebuggerDisplay("{ToString(),nq}")]
    public sealed class RedisCredential
    {
        public RedisCredential(string? user, string password)
        {
            User = string.IsNullOrEmpty(user) ? null : user;
            Password = password ?? throw new ArgumentNullException(nameof(password));
        }

        /// <summary>The ACL user; null means the legacy requirepass password (the "default" user).</summary>
        public string? User { get; }

        internal string Password { get; }

        public override string ToString() => User is null ? "password (hidden)" : $"user {User}, password (hidden)";
    }
}
