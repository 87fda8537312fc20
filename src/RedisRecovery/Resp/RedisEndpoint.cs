using System;
using System.Globalization;
using System.Net;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// Where a server listens: host and port (IPv6 in brackets), a unix socket path, or a redis:// / rediss:// URI
    /// that may carry user, password and database. <see cref="ToString"/> never includes the password, and the
    /// result parses back to the same endpoint (less the password).
    /// </summary>
    public sealed class RedisEndpoint : IEquatable<RedisEndpoint>
    {
        public const int DefaultPort = 6379;

        private RedisEndpoint(string? host, int port, string? unixSocketPath, bool useTls, int database, RedisCredential? credential)
        {
            Host = host;
            Port = port;
            UnixSocketPath = unixSocketPath;
            UseTls = useTls;
            Database = database;
            Credential = credential;
        }

        /// <summary>Host name or IP address (IPv6 without brackets); null for a unix socket.</summary>
        public string? Host { get; }

        /// <summary>TCP port; 0 for a unix socket.</summary>
        public int Port { get; }

        public string? UnixSocketPath { get; }

        /// <summary>True for rediss:// endpoints.</summary>
        public bool UseTls { get; }

        /// <summary>The database to SELECT after connecting (the /db of a URI); 0 by default.</summary>
        public int Database { get; }

        /// <summary>User and password given inside a URI; the connection prefers an explicit credential.</summary>
        public RedisCredential? Credential { get; }

        public bool IsUnixSocket => UnixSocketPath != null;

        /// <summary>"host:port" (brackets around IPv6) or the socket path: the short form for messages.</summary>
        public string Address => UnixSocketPath ?? $"{FormatHost(Host!)}:{Port.ToString(CultureInfo.InvariantCulture)}";

        public static RedisEndpoint Tcp(string host, int port = DefaultPort, bool useTls = false, int database = 0) =>
            new(host, CheckPort(port, host), null, useTls, database, null);

        public static RedisEndpoint UnixSocket(string path, int database = 0) => new(null, 0, path, false, database, null);

        /// <summary>Parses an endpoint, throwing a RedisRecoveryException (InvalidEndpoint) that says what is wrong.</summary>
        public static RedisEndpoint Parse(string text)
        {
            if (TryParse(text, out var endpoint, out var problem))
            {
                return endpoint!;
            }
            throw new RedisRecoveryException(RedisErrorIds.InvalidEndpoint, FailureKind.InvalidArgument,
                $"'{Redact(text)}' is not a Redis endpoint: {problem}. Use host:port, [ipv6]:port, redis://[user:password@]host:port[/db], rediss://... for TLS, or a unix socket path.")
            {
                Target = Redact(text),
            };
        }

        public static bool TryParse(string? text, out RedisEndpoint? endpoint) => TryParse(text, out endpoint, out _);

        /// <summary>Returns this endpoint with another database number.</summary>
        public RedisEndpoint WithDatabase(int database) => new(Host, Port, UnixSocketPath, UseTls, database, Credential);

        public RedisEndpoint WithTls(bool useTls) => new(Host, Port, UnixSocketPath, useTls, Database, Credential);

        public override string ToString()
        {
            if (UnixSocketPath != null)
            {
                return Database == 0 ? UnixSocketPath : $"unix://{UnixSocketPath}?db={Database.ToString(CultureInfo.InvariantCulture)}";
            }
            if (!UseTls && Database == 0 && Credential?.User is null)
            {
                return Address;
            }
            var user = Credential?.User is { } name ? Uri.EscapeDataString(name) + "@" : string.Empty;
            var database = Database == 0 ? string.Empty : "/" + Database.ToString(CultureInfo.InvariantCulture);
            return $"{(UseTls ? "rediss" : "redis")}://{user}{Address}{database}";
        }

        public bool Equals(RedisEndpoint? other) =>
            other is not null && string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase) && Port == other.Port &&
            UnixSocketPath == other.UnixSocketPath && UseTls == other.UseTls && Database == other.Database;

        public override bool Equals(object? obj) => Equals(obj as RedisEndpoint);

        public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Address) ^ Database;

        private static bool TryParse(string? text, out RedisEndpoint? endpoint, out string problem)
        {
            endpoint = null;
            text = text?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                problem = "it is empty";
                return false;
            }
            if (text!.StartsWith("unix://", StringComparison.OrdinalIgnoreCase))
            {
                return TryParseUnix(text.Substring("unix://".Length), out endpoint, out problem);
            }
            if (text.StartsWith("/", StringComparison.Ordinal) || text.StartsWith("./", StringComparison.Ordinal))
            {
                return TryParseUnix(text, out endpoint, out problem);
            }
            var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
            if (schemeEnd >= 0)
            {
                return TryParseUri(text, schemeEnd, out endpoint, out problem);
            }
            if (!TryParseHostPort(text, out var host, out var port, out problem))
            {
                return false;
            }
            endpoint = new RedisEndpoint(host, port, null, false, 0, null);
            return true;
        }

        private static bool TryParseUnix(string rest, out RedisEndpoint? endpoint, out string problem)
        {
            endpoint = null;
            var database = 0;
            var query = rest.IndexOf('?');
            if (query >= 0)
            {
                var parameter = rest.Substring(query + 1);
                rest = rest.Substring(0, query);
                if (!parameter.StartsWith("db=", StringComparison.Ordinal) || !TryParseDatabase(parameter.Substring(3), out database))
                {
                    problem = "the only query parameter of a unix socket is db=<number>";
                    return false;
                }
            }
            if (rest.Length == 0)
            {
                problem = "the socket path is empty";
                return false;
            }
            endpoint = new RedisEndpoint(null, 0, rest, false, database, null);
            problem = string.Empty;
            return true;
        }

        private static bool TryParseUri(string text, int schemeEnd, out RedisEndpoint? endpoint, out string problem)
        {
            endpoint = null;
            var scheme = text.Substring(0, schemeEnd).ToLowerInvariant();
            if (scheme != "redis" && scheme != "rediss")
            {
                problem = $"the scheme '{scheme}' is not redis:// or rediss://";
                return false;
            }
            var rest = text.Substring(schemeEnd + 3);
            var slash = rest.IndexOf('/');
            var authority = slash < 0 ? rest : rest.Substring(0, slash);
            var path = slash < 0 ? string.Empty : rest.Substring(slash + 1);
            RedisCredential? credential = null;
            var at = authority.LastIndexOf('@');
            if (at >= 0)
            {
                var userInfo = authority.Substring(0, at);
                authority = authority.Substring(at + 1);
                var colon = userInfo.IndexOf(':');
                var user = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo.Substring(0, colon));
                var password = colon < 0 ? null : Uri.UnescapeDataString(userInfo.Substring(colon + 1));
                if (password is null)
                {
                    // redis://password@host is how many clients write a legacy password alone.
                    credential = user.Length == 0 ? null : new RedisCredential(null, user);
                }
                else
                {
                    credential = new RedisCredential(user, password);
                }
            }
            var database = 0;
            if (path.Length > 0 && !TryParseDatabase(path, out database))
            {
                problem = $"the path '/{path}' is not a database number";
                return false;
            }
            if (!TryParseHostPort(authority, out var host, out var port, out problem))
            {
                return false;
            }
            endpoint = new RedisEndpoint(host, port, null, scheme == "rediss", database, credential);
            return true;
        }

        private static bool TryParseHostPort(string text, out string host, out int port, out string problem)
        {
            host = string.Empty;
            port = DefaultPort;
            problem = string.Empty;
            string portText;
            if (text.StartsWith("[", StringComparison.Ordinal))
            {
                var close = text.IndexOf(']');
                if (close < 0)
                {
                    problem = "the IPv6 address has no closing ']'";
                    return false;
                }
                host = text.Substring(1, close - 1);
                if (!IPAddress.TryParse(host, out _))
                {
                    problem = $"'{host}' is not an IPv6 address";
                    return false;
                }
                var after = text.Substring(close + 1);
                if (after.Length == 0)
                {
                    return true;
                }
                if (after[0] != ':')
                {
                    problem = "expected ':port' after the IPv6 address";
                    return false;
                }
                portText = after.Substring(1);
            }
            else
            {
                var colon = text.LastIndexOf(':');
                if (colon >= 0 && text.IndexOf(':') != colon)
                {
                    // Several colons without brackets: a bare IPv6 address, default port.
                    if (IPAddress.TryParse(text, out _))
                    {
                        host = text;
                        return true;
                    }
                    problem = "an IPv6 address with a port needs brackets, as in [::1]:6379";
                    return false;
                }
                host = colon < 0 ? text : text.Substring(0, colon);
                if (colon < 0)
                {
                    return CheckHost(host, out problem);
                }
                portText = text.Substring(colon + 1);
            }
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port < 1 || port > 65535)
            {
                problem = $"the port '{portText}' is not a number from 1 to 65535";
                return false;
            }
            return CheckHost(host, out problem);
        }

        private static bool CheckHost(string host, out string problem)
        {
            problem = string.Empty;
            if (IPAddress.TryParse(host, out _))
            {
                return true;
            }
            if (host.Length == 0)
            {
                problem = "the host is empty";
                return false;
            }
            foreach (var c in host)
            {
                if (!(char.IsLetterOrDigit(c) || c == '.' || c == '-' || c == '_'))
                {
                    problem = $"the host '{host}' contains '{c}'";
                    return false;
                }
            }
            return true;
        }

        private static bool TryParseDatabase(string text, out int database) =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out database);

        private static int CheckPort(int port, string host)
        {
            if (port < 1 || port > 65535)
            {
                throw new RedisRecoveryException(RedisErrorIds.InvalidEndpoint, FailureKind.InvalidArgument, $"Port {port} of '{host}' is not from 1 to 65535.");
            }
            return port;
        }

        private static string FormatHost(string host) => host.IndexOf(':') >= 0 ? $"[{host}]" : host;

        /// <summary>
        /// The endpoint text as the user typed it, with the password of a redis:// URI replaced by ***: the one way to
        /// show typed endpoint text (messages, -WhatIf text, error targets) when it may not parse.
        /// </summary>
        public static string Redact(string? text)
        {
            if (text is null)
            {
                return string.Empty;
            }
            var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
            var at = text.LastIndexOf('@');
            if (schemeEnd < 0 || at < schemeEnd)
            {
                return text;
            }
            var userInfo = text.Substring(schemeEnd + 3, at - schemeEnd - 3);
            var colon = userInfo.IndexOf(':');
            var user = colon < 0 ? string.Empty : userInfo.Substring(0, colon);
            return text.Substring(0, schemeEnd + 3) + user + ":***" + text.Substring(at);
        }
    }
}
