using System;
using System.Globalization;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// The endpoint text recorded with a backup: host:port only. Whatever form it is given in (a redis:// URI with
    /// user and password, a database suffix, a query), credentials never reach a sidecar or a file name.
    /// </summary>
    public static class BackupEndpoint
    {
        public const int DefaultPort = 6379;

        public static string ToHostPort(string host, int port)
        {
            if (string.IsNullOrWhiteSpace(host) || port < 1 || port > 65535)
            {
                throw Invalid();
            }
            return (host.IndexOf(':') >= 0 && !host.StartsWith("[", StringComparison.Ordinal) ? "[" + host + "]" : host) +
                ":" + port.ToString(CultureInfo.InvariantCulture);
        }

        public static string ToHostPort(string endpoint)
        {
            if (string.IsNullOrWhiteSpace(endpoint))
            {
                throw Invalid();
            }
            var text = endpoint.Trim();
            var scheme = text.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0)
            {
                text = text.Substring(scheme + 3);
            }
            var pathStart = text.IndexOfAny(new[] { '/', '?', '#' });
            if (pathStart >= 0)
            {
                text = text.Substring(0, pathStart);
            }
            var userInfoEnd = text.LastIndexOf('@');
            if (userInfoEnd >= 0)
            {
                text = text.Substring(userInfoEnd + 1);
            }
            return SplitHostPort(text, out var host, out var port) ? ToHostPort(host, port) : throw Invalid();
        }

        private static bool SplitHostPort(string text, out string host, out int port)
        {
            host = text;
            port = DefaultPort;
            if (text.StartsWith("[", StringComparison.Ordinal))
            {
                var close = text.IndexOf(']');
                if (close < 0)
                {
                    return false;
                }
                host = text.Substring(1, close - 1);
                var rest = text.Substring(close + 1);
                return rest.Length == 0 || (rest[0] == ':' && TryParsePort(rest.Substring(1), out port));
            }
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':') == colon)
            {
                host = text.Substring(0, colon);
                return host.Length > 0 && TryParsePort(text.Substring(colon + 1), out port);
            }
            // No colon, or several: a bare host name or a bare IPv6 address.
            return text.Length > 0;
        }

        private static bool TryParsePort(string text, out int port) =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port >= 1 && port <= 65535;

        // The rejected text is never echoed: it may be the credential-bearing part of a URI.
        private static RedisRecoveryException Invalid() =>
            new RedisRecoveryException("InvalidEndpoint", FailureKind.InvalidArgument, "The endpoint is not of the form host:port.");
    }
}
