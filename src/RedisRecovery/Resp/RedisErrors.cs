using System;

namespace RedisRecovery.Resp
{
    /// <summary>The stable ErrorIds of the RESP client; scripts and tests match on these.</summary>
    public static class RedisErrorIds
    {
        public const string InvalidEndpoint = "InvalidEndpoint";
        public const string ConnectionRefused = "ConnectionRefused";
        public const string HostNotFound = "HostNotFound";
        public const string EndpointUnreachable = "EndpointUnreachable";
        public const string ConnectTimeout = "ConnectTimeout";
        public const string CommandTimeout = "CommandTimeout";
        public const string ConnectionClosed = "ConnectionClosed";
        public const string ConnectionBroken = "ConnectionBroken";
        public const string ProtocolError = "ProtocolError";
        public const string AuthenticationFailed = "AuthenticationFailed";
        public const string AuthenticationRequired = "AuthenticationRequired";
        public const string TlsHandshakeFailed = "TlsHandshakeFailed";
        public const string TlsConfigurationInvalid = "TlsConfigurationInvalid";
        public const string ServerError = "ServerError";
        public const string CommandUnavailable = "CommandUnavailable";
        public const string CommandNotPermitted = "CommandNotPermitted";
        public const string NotSupported = "NotSupported";
    }

    /// <summary>The server could not be reached, or the connection failed under a command (refused, timeout, TLS, closed).</summary>
    public sealed class RedisConnectionException : RedisRecoveryException
    {
        public RedisConnectionException(string errorId, FailureKind kind, string message, Exception? innerException = null)
            : base(errorId, kind, message, innerException)
        {
        }
    }

    /// <summary>The bytes from the server are not valid RESP; names the endpoint and the byte offset in the connection.</summary>
    public sealed class RedisProtocolException : RedisRecoveryException
    {
        public RedisProtocolException(string source, long offset, string message)
            : base(RedisErrorIds.ProtocolError, FailureKind.ServerError, message)
        {
            Offset = offset;
            Target = source;
        }

        public long Offset { get; }
    }

    /// <summary>
    /// The server answered a command with an error reply. <see cref="ServerMessage"/> is the server's text;
    /// <see cref="ErrorPrefix"/> its first word (ERR, WRONGTYPE, NOAUTH...).
    /// </summary>
    public sealed class RedisServerErrorException : RedisRecoveryException
    {
        public RedisServerErrorException(string errorId, FailureKind kind, string command, string serverMessage, string message)
            : base(errorId, kind, message)
        {
            Command = command;
            ServerMessage = serverMessage;
            var space = serverMessage.IndexOf(' ');
            ErrorPrefix = space < 0 ? serverMessage : serverMessage.Substring(0, space);
        }

        /// <summary>The command's name (never its arguments).</summary>
        public string Command { get; }

        public string ServerMessage { get; }

        public string ErrorPrefix { get; }
    }
}
