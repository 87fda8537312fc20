using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// One connection to one Redis server: connect (TCP or unix socket, optional TLS), log in (HELLO 3 or RESP2 AUTH),
    /// run commands one at a time or pipelined. Not thread-safe: one operation at a time. After a timeout,
    /// cancellation, I/O failure or protocol error the connection is broken and refuses further use, because the
    /// position in the reply stream is no longer known.
    /// </summary>
    public sealed class RedisConnection : IAsyncDisposable, IDisposable
    {
        private readonly Socket _socket;
        private readonly Stream _stream;
        private readonly RespReader _reader;
        private readonly RespWriter _writer;
        private readonly RedisConnectionOptions _options;
        private CancellationTokenSource? _operationTimeout;
        private string? _brokenReason;
        private int _busy;

        private RedisConnection(RedisConnectionOptions options, Socket socket, Stream stream)
        {
            _options = options;
            _socket = socket;
            _stream = stream;
            _reader = new RespReader(stream, options.Endpoint.Address, maxBulkLength: options.MaxBulkLength);
            _writer = new RespWriter(stream);
        }

        public RedisEndpoint Endpoint => _options.Endpoint;

        /// <summary>2 or 3: the protocol the server agreed to.</summary>
        public int ProtocolVersion { get; private set; } = 2;

        /// <summary>The server version reported by HELLO; null when the login used RESP2.</summary>
        public string? ServerVersion { get; private set; }

        /// <summary>The database selected after login.</summary>
        public int Database { get; private set; }

        public bool IsTls => _stream is System.Net.Security.SslStream;

        public bool IsBroken => _brokenReason != null;

        public long MaxInFlightBytes => _options.MaxInFlightBytes;

        /// <summary>Connects, negotiates TLS, logs in and selects the database, all within the connect timeout.</summary>
        public static async Task<RedisConnection> ConnectAsync(RedisConnectionOptions options, CancellationToken cancellationToken = default)
        {
            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }
            var deadline = DateTime.UtcNow + options.ConnectTimeout;
            using var connectTimeout = new CancellationTokenSource(options.ConnectTimeout);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectTimeout.Token);
            var tls = options.TlsEnabled ? new TlsNegotiator(options.Tls, options.Endpoint) : null;
            Socket? socket = null;
            Stream? stream = null;
            try
            {
                socket = await OpenSocketAsync(options.Endpoint, linked.Token).ConfigureAwait(false);
                stream = new NetworkStream(socket, ownsSocket: true);
                if (tls != null)
                {
                    stream = await tls.AuthenticateAsync(stream, linked.Token).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (connectTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                stream?.Dispose();
                socket?.Dispose();
                var stage = socket != null && tls != null ? "the TLS handshake did not complete (is this a TLS port?)" : "no TCP connection";
                throw new RedisConnectionException(RedisErrorIds.ConnectTimeout, FailureKind.Timeout,
                    $"Could not connect to {options.Endpoint.Address} within {options.ConnectTimeout.TotalSeconds:0.#} s: {stage}.", exception)
                {
                    Target = options.Endpoint.ToString(),
                };
            }
            catch
            {
                stream?.Dispose();
                socket?.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                throw;
            }
            var connection = new RedisConnection(options, socket, stream);
            try
            {
                await connection.LoginAsync(deadline, cancellationToken).ConfigureAwait(false);
                return connection;
            }
            catch (RedisConnectionException exception) when (exception.ErrorId == RedisErrorIds.CommandTimeout)
            {
                connection.Dispose();
                throw new RedisConnectionException(RedisErrorIds.ConnectTimeout, FailureKind.Timeout,
                    $"{options.Endpoint.Address} accepted the connection but did not answer the login within {options.ConnectTimeout.TotalSeconds:0.#} s (is it a Redis server? does it need TLS?).", exception)
                {
                    Target = options.Endpoint.ToString(),
                };
            }
            catch (RedisConnectionException exception) when (exception.ErrorId == RedisErrorIds.ConnectionClosed && options.TlsEnabled)
            {
                connection.Dispose();
                throw new RedisConnectionException(RedisErrorIds.TlsHandshakeFailed, FailureKind.SecurityError,
                    $"{options.Endpoint.Address} closed the TLS connection right after the handshake: it probably requires a client certificate that was not offered or not accepted.", exception)
                {
                    Target = options.Endpoint.ToString(),
                };
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>Runs one command; an error reply becomes a <see cref="RedisServerErrorException"/>.</summary>
        public async Task<RespValue> ExecuteAsync(RedisCommand command, CancellationToken cancellationToken = default)
        {
            var reply = await RunAsync(command.Name, token => RoundTripAsync(command, token), cancellationToken).ConfigureAwait(false);
            return reply.IsError ? throw ToException(command, reply) : reply;
        }

        public Task<RespValue> ExecuteAsync(string name, params RedisArgument[] arguments) =>
            ExecuteAsync(new RedisCommand(name, arguments));

        /// <summary>
        /// Sends all commands (one write when they fit in <see cref="MaxInFlightBytes"/>) and returns their replies in
        /// order. Error replies stay in the list as values; <see cref="ToException"/> turns one into an exception.
        /// </summary>
        public async Task<IReadOnlyList<RespValue>> ExecuteBatchAsync(IReadOnlyList<RedisCommand> commands, CancellationToken cancellationToken = default)
        {
            var replies = new RespValue[commands.Count];
            var pipeline = CreatePipeline<int>((index, reply) => replies[index] = reply);
            for (var i = 0; i < commands.Count; i++)
            {
                await pipeline.SendAsync(commands[i], i, cancellationToken).ConfigureAwait(false);
            }
            await pipeline.CompleteAsync(cancellationToken).ConfigureAwait(false);
            return replies;
        }

        /// <summary>
        /// A pipeline for bulk work: commands stream out, and once <see cref="MaxInFlightBytes"/> are unanswered the
        /// pipeline reads replies (handing each to <paramref name="onReply"/> with the tag it was sent with) before sending more.
        /// </summary>
        public RedisPipeline<TTag> CreatePipeline<TTag>(Action<TTag, RespValue> onReply) => new(this, onReply);

        /// <summary>Writes a command and sends it, without reading its reply (for a replication client: SYNC, PSYNC, REPLCONF).</summary>
        public Task SendAsync(RedisCommand command, CancellationToken cancellationToken = default) =>
            RunAsync(command.Name, async token =>
            {
                await _writer.WriteAsync(command, token).ConfigureAwait(false);
                await _writer.FlushAsync(token).ConfigureAwait(false);
                return true;
            }, cancellationToken);

        /// <summary>Reads the next reply as a value (error replies included, not thrown). RESP3 push messages are skipped.</summary>
        public Task<RespValue> ReadReplyAsync(CancellationToken cancellationToken = default) =>
            RunAsync("reading a reply", ReadReplyCoreAsync, cancellationToken);

        /// <summary>
        /// Reads one raw line (without CR LF) from the connection's buffer: e.g. the "$&lt;length&gt;" or "$EOF:&lt;mark&gt;"
        /// header of an RDB payload after +FULLRESYNC. Redis may send empty lines as keep-alives before it.
        /// </summary>
        public Task<string> ReadLineAsync(CancellationToken cancellationToken = default) =>
            RunAsync("reading a line", async token => await _reader.ReadLineAsync(token).ConfigureAwait(false), cancellationToken);

        /// <summary>Reads raw bytes (buffered ones first) into <paramref name="destination"/>; 0 only when the server closed the connection.</summary>
        public Task<int> ReadRawAsync(Memory<byte> destination, CancellationToken cancellationToken = default) =>
            RunAsync("reading raw bytes", async token => await _reader.ReadRawAsync(destination, token).ConfigureAwait(false), cancellationToken);

        /// <summary>The exception for an error reply to <paramref name="command"/>, with a stable ErrorId by kind of error.</summary>
        public RedisServerErrorException ToException(RedisCommand command, RespValue errorReply)
        {
            var text = errorReply.AsString() ?? string.Empty;
            var address = Endpoint.Address;
            var advice = command.UnavailableAdvice is null ? string.Empty : " " + command.UnavailableAdvice;
            RedisServerErrorException Make(string id, FailureKind kind, string message) =>
                new(id, kind, command.Name, text, message) { Target = Endpoint.ToString() };

            if (text.StartsWith("WRONGPASS", StringComparison.Ordinal))
            {
                var who = _options.EffectiveCredential?.User is { } user ? $"user '{user}'" : "the default user";
                return Make(RedisErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
                    $"Authentication to {address} as {who} failed: wrong password, unknown user, or user disabled.");
            }
            if (text.StartsWith("NOAUTH", StringComparison.Ordinal))
            {
                return Make(RedisErrorIds.AuthenticationRequired, FailureKind.AuthenticationFailed,
                    $"{address} requires authentication: pass a credential (user and password, or the requirepass password).");
            }
            if (text.StartsWith("NOPERM", StringComparison.Ordinal))
            {
                var who = _options.EffectiveCredential?.User is { } user ? $"User '{user}'" : "The default user";
                return Make(RedisErrorIds.CommandNotPermitted, FailureKind.CommandUnavailable,
                    $"{who} may not run {command.Name} on {address} (ACL: {text}).{advice}");
            }
            if (text.StartsWith("ERR unknown command", StringComparison.Ordinal) || text.StartsWith("ERR unknown subcommand", StringComparison.Ordinal))
            {
                // The server's text quotes the arguments, which may be values: name the command only.
                var name = command.Arguments.Count > 0 && text.StartsWith("ERR unknown subcommand", StringComparison.Ordinal)
                    ? $"{command.Name} {System.Text.Encoding.UTF8.GetString(command.Arguments[0].Bytes.ToArray())}"
                    : command.Name;
                return Make(RedisErrorIds.CommandUnavailable, FailureKind.CommandUnavailable,
                    $"{address} does not offer the command {name}: it is disabled or renamed (managed services do this).{advice}");
            }
            return Make(RedisErrorIds.ServerError, FailureKind.ServerError, $"{address} answered {command.Name} with an error: {text}");
        }

        public void Dispose()
        {
            _brokenReason ??= "it was closed";
            _stream.Dispose();
            _socket.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }

        /// <summary>Runs the pipeline's writes and reads under this connection's guard.</summary>
        internal Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken) =>
            RunAsync(what, operation, _options.CommandTimeout, cancellationToken);

        internal ValueTask WriteAsync(RedisCommand command, CancellationToken token) => _writer.WriteAsync(command, token);

        /// <summary>Buffers a command without I/O when the connection is idle, healthy and the buffer has room.</summary>
        internal bool TryWriteBuffered(RedisCommand command, long encodedLength) =>
            _brokenReason == null && Volatile.Read(ref _busy) == 0 && _writer.TryWriteBuffered(command, encodedLength);

        internal bool TryWriteEncodedBuffered(ReadOnlyMemory<byte> encoded) =>
            _brokenReason == null && Volatile.Read(ref _busy) == 0 && _writer.TryWriteEncodedBuffered(encoded.Span);

        internal ValueTask WriteEncodedAsync(ReadOnlyMemory<byte> encoded, CancellationToken token) => _writer.WriteEncodedAsync(encoded, token);

        internal ValueTask WriteStreamedAsync(RedisCommand head, Stream source, long length, IReadOnlyList<RedisArgument> tail, CancellationToken token) =>
            _writer.WriteStreamedAsync(head, source, length, tail, token);

        /// <summary>Consumes a buffered "+OK" reply without allocating (the reply to almost every command of a bulk load).</summary>
        internal bool TryTakeBufferedOk() => _reader.TryTakeBufferedOk();

        internal ValueTask FlushAsync(CancellationToken token) => _writer.FlushAsync(token);

        /// <summary>Each reply proves the server is alive: the command timeout counts from the last one.</summary>
        internal async Task<RespValue> ReadReplyCoreAsync(CancellationToken token)
        {
            while (true)
            {
                var reply = await _reader.ReadAsync(token).ConfigureAwait(false);
                if (_operationTimeout != null && _options.CommandTimeout != Timeout.InfiniteTimeSpan)
                {
                    _operationTimeout.CancelAfter(_options.CommandTimeout);
                }
                if (reply.Type != RespType.Push)
                {
                    return reply;
                }
            }
        }

        private async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> operation, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_brokenReason != null)
            {
                throw new RedisConnectionException(RedisErrorIds.ConnectionBroken, FailureKind.ConnectionFailed,
                    $"The connection to {Endpoint.Address} cannot be used any more: {_brokenReason}.") { Target = Endpoint.ToString() };
            }
            if (Interlocked.Exchange(ref _busy, 1) != 0)
            {
                throw new InvalidOperationException("A RedisConnection runs one operation at a time.");
            }
            using var timeoutSource = timeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(timeout);
            // Pipelines call this once per command: skip the linked source when the caller cannot cancel.
            using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token) : null;
            var token = linked?.Token ?? timeoutSource.Token;
            // Closing the socket is the one way to end a pending read on every runtime (netstandard2.0 ignores the token).
            using var abort = token.Register(() =>
            {
                _brokenReason ??= timeoutSource.IsCancellationRequested ? $"{what} timed out" : $"{what} was cancelled";
                _stream.Dispose();
            });
            _operationTimeout = timeoutSource;
            try
            {
                return await operation(token).ConfigureAwait(false);
            }
            catch (Exception exception) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                Close();
                throw new RedisConnectionException(RedisErrorIds.CommandTimeout, FailureKind.Timeout,
                    $"{Endpoint.Address} did not answer {what} within {timeout.TotalSeconds:0.#} s; the connection was closed.", exception)
                {
                    Target = Endpoint.ToString(),
                };
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                Close();
                throw new OperationCanceledException(cancellationToken);
            }
            catch (RedisProtocolException)
            {
                _brokenReason ??= "the server sent bytes that are not RESP";
                Close();
                throw;
            }
            catch (RedisConnectionException)
            {
                _brokenReason ??= "the server closed it";
                Close();
                throw;
            }
            catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException)
            {
                _brokenReason ??= "the connection failed";
                Close();
                throw new RedisConnectionException(RedisErrorIds.ConnectionClosed, FailureKind.ConnectionFailed,
                    $"The connection to {Endpoint.Address} failed during {what}: {exception.Message}", exception)
                {
                    Target = Endpoint.ToString(),
                };
            }
            finally
            {
                _operationTimeout = null;
                Volatile.Write(ref _busy, 0);
            }
        }

        private void Close()
        {
            _brokenReason ??= "it failed";
            _stream.Dispose();
            _socket.Dispose();
        }

        private async Task LoginAsync(DateTime deadline, CancellationToken cancellationToken)
        {
            var credential = _options.EffectiveCredential;
            var loggedIn = false;
            if (_options.Protocol == RespProtocolPreference.Auto)
            {
                var hello = new List<RedisArgument> { 3 };
                if (credential != null)
                {
                    hello.Add("AUTH");
                    hello.Add(credential.User ?? "default");
                    hello.Add(credential.Password);
                }
                if (_options.ClientName != null)
                {
                    hello.Add("SETNAME");
                    hello.Add(_options.ClientName);
                }
                var command = new RedisCommand("HELLO", hello);
                var reply = await RunLoginCommandAsync(command, deadline, cancellationToken).ConfigureAwait(false);
                if (!reply.IsError)
                {
                    ProtocolVersion = 3;
                    foreach (var pair in reply.AsPairs())
                    {
                        if (pair.Key.AsString() == "version")
                        {
                            ServerVersion = pair.Value.AsString();
                        }
                    }
                    loggedIn = true;
                }
                else
                {
                    var error = ToException(command, reply);
                    // Older servers, or HELLO disabled: fall back to RESP2. Everything else (bad password...) is final.
                    if (error.ErrorId != RedisErrorIds.CommandUnavailable && error.ErrorPrefix != "NOPROTO")
                    {
                        throw error;
                    }
                }
            }
            if (!loggedIn)
            {
                if (credential != null)
                {
                    var auth = credential.User is null
                        ? new RedisCommand("AUTH", credential.Password)
                        : new RedisCommand("AUTH", credential.User, credential.Password);
                    await ExpectOkAsync(auth, deadline, cancellationToken).ConfigureAwait(false);
                }
                if (_options.ClientName != null)
                {
                    var setName = new RedisCommand("CLIENT", "SETNAME", _options.ClientName);
                    var reply = await RunLoginCommandAsync(setName, deadline, cancellationToken).ConfigureAwait(false);
                    // A managed service may hide CLIENT; the name is a courtesy, not a requirement.
                    if (reply.IsError && ToException(setName, reply).Kind != FailureKind.CommandUnavailable)
                    {
                        throw ToException(setName, reply);
                    }
                }
            }
            var database = _options.EffectiveDatabase;
            if (database != 0)
            {
                await ExpectOkAsync(new RedisCommand("SELECT", database), deadline, cancellationToken).ConfigureAwait(false);
                Database = database;
            }
        }

        private async Task ExpectOkAsync(RedisCommand command, DateTime deadline, CancellationToken cancellationToken)
        {
            var reply = await RunLoginCommandAsync(command, deadline, cancellationToken).ConfigureAwait(false);
            if (reply.IsError)
            {
                throw ToException(command, reply);
            }
        }

        /// <summary>Login commands share what is left of the connect timeout.</summary>
        private Task<RespValue> RunLoginCommandAsync(RedisCommand command, DateTime deadline, CancellationToken cancellationToken) =>
            RunAsync(command.Name, token => RoundTripAsync(command, token), Remaining(deadline), cancellationToken);

        private async Task<RespValue> RoundTripAsync(RedisCommand command, CancellationToken token)
        {
            await _writer.WriteAsync(command, token).ConfigureAwait(false);
            await _writer.FlushAsync(token).ConfigureAwait(false);
            return await ReadReplyCoreAsync(token).ConfigureAwait(false);
        }

        private static TimeSpan Remaining(DateTime deadline)
        {
            var remaining = deadline - DateTime.UtcNow;
            return remaining > TimeSpan.FromMilliseconds(1) ? remaining : TimeSpan.FromMilliseconds(1);
        }

        private static async Task<Socket> OpenSocketAsync(RedisEndpoint endpoint, CancellationToken cancellationToken)
        {
            if (endpoint.UnixSocketPath is { } path)
            {
#if NET8_0_OR_GREATER
                var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await unix.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                    return unix;
                }
                catch (SocketException exception)
                {
                    unix.Dispose();
                    throw ConnectFailure(endpoint, exception);
                }
#else
                throw new RedisRecoveryException(RedisErrorIds.NotSupported, FailureKind.NotSupported,
                    $"Unix socket endpoints ('{path}') need PowerShell 7.") { Target = path };
#endif
            }
            var addresses = await ResolveAsync(endpoint, cancellationToken).ConfigureAwait(false);
            SocketException? lastFailure = null;
            foreach (var address in addresses)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
#if NET8_0_OR_GREATER
                    await socket.ConnectAsync(address, endpoint.Port, cancellationToken).ConfigureAwait(false);
#else
                    using (cancellationToken.Register(socket.Dispose))
                    {
                        await socket.ConnectAsync(address, endpoint.Port).ConfigureAwait(false);
                    }
#endif
                    return socket;
                }
                catch (SocketException exception)
                {
                    socket.Dispose();
                    lastFailure = exception;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
            throw ConnectFailure(endpoint, lastFailure!);
        }

        private static async Task<IPAddress[]> ResolveAsync(RedisEndpoint endpoint, CancellationToken cancellationToken)
        {
            var host = endpoint.Host!;
            if (IPAddress.TryParse(host, out var literal))
            {
                return new[] { literal };
            }
            try
            {
#if NET8_0_OR_GREATER
                var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
#else
                var addresses = await Dns.GetHostAddressesAsync(host).ConfigureAwait(false);
#endif
                if (addresses.Length == 0)
                {
                    throw new SocketException((int)SocketError.HostNotFound);
                }
                return addresses;
            }
            catch (SocketException exception)
            {
                throw ConnectFailure(endpoint, exception);
            }
        }

        private static RedisConnectionException ConnectFailure(RedisEndpoint endpoint, SocketException exception)
        {
            var address = endpoint.Address;
            var (id, message) = exception.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => (RedisErrorIds.ConnectionRefused,
                    $"Could not connect to {address}: connection refused (nothing listens there; is redis-server running on that port?)."),
                SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => (RedisErrorIds.HostNotFound,
                    $"Could not connect to {address}: the host name '{endpoint.Host}' does not resolve."),
                SocketError.TimedOut => (RedisErrorIds.ConnectTimeout, $"Could not connect to {address}: the connection attempt timed out."),
                SocketError.AddressNotAvailable when endpoint.IsUnixSocket => (RedisErrorIds.ConnectionRefused,
                    $"Could not connect to the unix socket {address}: it does not exist."),
                _ => (RedisErrorIds.EndpointUnreachable, $"Could not connect to {address}: {exception.Message} ({exception.SocketErrorCode})."),
            };
            var kind = id == RedisErrorIds.ConnectTimeout ? FailureKind.Timeout : FailureKind.ConnectionFailed;
            return new RedisConnectionException(id, kind, message, exception) { Target = endpoint.ToString() };
        }
    }
}
