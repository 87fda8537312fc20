using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Resp
{
    public sealed class RedisConnectionTests
    {
        private readonly ITestOutputHelper _output;

        public RedisConnectionTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public async Task Connect_PlainServer_SpeaksResp3AndRoundTripsBinaryValues()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            Assert.Equal(3, connection.ProtocolVersion);
            Assert.Equal("7.0.15", connection.ServerVersion);
            var key = new byte[] { 0, 1, 2, 0xFF, (byte)'\r', (byte)'\n' };
            var value = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
            Assert.Equal("OK", (await connection.ExecuteAsync("SET", key, value)).AsString());
            Assert.Equal(value, (await connection.ExecuteAsync("GET", key)).Bytes);
            Assert.True((await connection.ExecuteAsync("GET", "missing")).IsNull);
            Assert.Equal("RedisRecovery", (await connection.ExecuteAsync("CLIENT", "GETNAME")).AsString());
            Assert.Equal(RespType.Map, (await connection.ExecuteAsync("CONFIG", "GET", "save")).Type);
        }

        [Fact]
        public async Task Connect_WithResp2Preference_SpeaksResp2AndSetsTheName()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { Protocol = RespProtocolPreference.Resp2, ClientName = "resp2-client" };
            await using var connection = await RedisConnection.ConnectAsync(options);
            Assert.Equal(2, connection.ProtocolVersion);
            Assert.Equal(RespType.Array, (await connection.ExecuteAsync("CONFIG", "GET", "save")).Type);
            Assert.Equal("resp2-client", (await connection.ExecuteAsync("CLIENT", "GETNAME")).AsString());
        }

        [Fact]
        public async Task Connect_ServerWithoutHello_FallsBackToResp2AndAuthenticates()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.RequirePass().AsManagedService("HELLO"));
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { Credential = new RedisCredential(null, RedisServerVariants.Password) };
            await using var connection = await RedisConnection.ConnectAsync(options);
            Assert.Equal(2, connection.ProtocolVersion);
            Assert.Equal("PONG", (await connection.ExecuteAsync("PING")).AsString());
        }

        [Fact]
        public async Task Connect_UnixSocket_ReachesTheSameServer()
        {
            var directory = RedisServerProcess.CreateTempDirectory();
            var socket = System.IO.Path.Combine(directory, "redis.sock");
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output, Directory = directory }.WithArguments("--unixsocket", socket));
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(socket)));
            Assert.Equal(server.ProcessId.ToString(), (await connection.ExecuteAsync("INFO", "server")).AsString()!.Split("\r\n").Single(line => line.StartsWith("process_id:")).Substring(11));
            var missing = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(socket + ".missing"))));
            Assert.Equal(RedisErrorIds.ConnectionRefused, missing.ErrorId);
            Assert.Contains(socket + ".missing", missing.Message);
            Assert.Contains("does not exist", missing.Message);
            System.IO.Directory.Delete(directory, recursive: true);
        }

        [Fact]
        public async Task Connect_RequirePassWithPasswordInUri_AuthenticatesAndSelectsTheDatabase()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.RequirePass());
            var endpoint = RedisEndpoint.Parse($"redis://:{Uri.EscapeDataString(RedisServerVariants.Password)}@{server.Endpoint}/3");
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(endpoint));
            Assert.Equal(3, connection.Database);
            await connection.ExecuteAsync("SET", "k", "v");
            var keyspace = (await connection.ExecuteAsync("INFO", "keyspace")).AsString();
            Assert.Contains("db3:keys=1", keyspace);
        }

        [Theory]
        [InlineData(RespProtocolPreference.Auto)]
        [InlineData(RespProtocolPreference.Resp2)]
        public async Task Connect_AclUser_AuthenticatesAsThatUser(RespProtocolPreference protocol)
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithAclUser().RequirePass());
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint))
            {
                Credential = new RedisCredential(RedisServerVariants.AclUser, RedisServerVariants.AclPassword),
                Protocol = protocol,
            };
            await using var connection = await RedisConnection.ConnectAsync(options);
            Assert.Equal(RedisServerVariants.AclUser, (await connection.ExecuteAsync("ACL", "WHOAMI")).AsString());
        }

        [Theory]
        [InlineData(RespProtocolPreference.Auto, "alice", "wrong-Password-1")]
        [InlineData(RespProtocolPreference.Resp2, "alice", "wrong-Password-2")]
        [InlineData(RespProtocolPreference.Auto, "nobody", RedisServerVariants.AclPassword)]
        [InlineData(RespProtocolPreference.Auto, null, "wrong-Password-3")]
        [InlineData(RespProtocolPreference.Resp2, null, "wrong-Password-4")]
        public async Task Connect_WrongPasswordOrUnknownUser_FailsWithAuthenticationFailedAndNoSecretInText(RespProtocolPreference protocol, string? user, string password)
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithAclUser().RequirePass());
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { Credential = new RedisCredential(user, password), Protocol = protocol };
            var error = await Assert.ThrowsAsync<RedisServerErrorException>(() => RedisConnection.ConnectAsync(options));
            Assert.Equal(RedisErrorIds.AuthenticationFailed, error.ErrorId);
            Assert.Equal(FailureKind.AuthenticationFailed, error.Kind);
            Assert.Contains(server.Endpoint, error.Message);
            AssertNoSecret(error, password);
        }

        [Theory]
        [InlineData(RespProtocolPreference.Auto)]
        [InlineData(RespProtocolPreference.Resp2)]
        public async Task Connect_RequirePassWithoutCredential_FailsWithAuthenticationRequired(RespProtocolPreference protocol)
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.RequirePass());
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { Protocol = protocol, ClientName = null };
            if (protocol == RespProtocolPreference.Auto)
            {
                var error = await Assert.ThrowsAsync<RedisServerErrorException>(() => RedisConnection.ConnectAsync(options));
                Assert.Equal(RedisErrorIds.AuthenticationRequired, error.ErrorId);
                Assert.Contains("requires authentication", error.Message);
            }
            else
            {
                // RESP2 with no name to set sends nothing at login: the first command meets NOAUTH.
                await using var connection = await RedisConnection.ConnectAsync(options);
                var error = await Assert.ThrowsAsync<RedisServerErrorException>(() => connection.ExecuteAsync("GET", "k"));
                Assert.Equal(RedisErrorIds.AuthenticationRequired, error.ErrorId);
                Assert.False(connection.IsBroken);
            }
        }

        [Fact]
        public async Task Connect_ClosedPort_FailsWithConnectionRefusedNamingHostAndPort()
        {
            var port = RedisServerProcess.FreePort();
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Tcp("127.0.0.1", port))));
            Assert.Equal(RedisErrorIds.ConnectionRefused, error.ErrorId);
            Assert.Equal(FailureKind.ConnectionFailed, error.Kind);
            Assert.Contains($"127.0.0.1:{port}", error.Message);
        }

        [Fact]
        public async Task Connect_UnresolvableHost_FailsWithHostNotFound()
        {
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse("no-such-host.invalid:6379"))));
            Assert.Equal(RedisErrorIds.HostNotFound, error.ErrorId);
            Assert.Contains("no-such-host.invalid", error.Message);
        }

        [Fact]
        public async Task Connect_ServerThatNeverAnswers_FailsWithConnectTimeout()
        {
            // A listener that accepts and stays silent: the login must give up after the connect timeout.
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            try
            {
                var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
                var options = new RedisConnectionOptions(RedisEndpoint.Tcp("127.0.0.1", port)) { ConnectTimeout = TimeSpan.FromMilliseconds(300) };
                var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
                Assert.Equal(RedisErrorIds.ConnectTimeout, error.ErrorId);
                Assert.Equal(FailureKind.Timeout, error.Kind);
                Assert.Contains("did not answer the login", error.Message);
            }
            finally
            {
                listener.Stop();
            }
        }

        [Fact]
        public async Task Execute_CommandOutlivingTheTimeout_BreaksTheConnectionForGood()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { CommandTimeout = TimeSpan.FromMilliseconds(200) };
            await using var connection = await RedisConnection.ConnectAsync(options);
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => connection.ExecuteAsync("DEBUG", "SLEEP", "1"));
            Assert.Equal(RedisErrorIds.CommandTimeout, error.ErrorId);
            Assert.True(connection.IsBroken);
            var reuse = await Assert.ThrowsAsync<RedisConnectionException>(() => connection.ExecuteAsync("PING"));
            Assert.Equal(RedisErrorIds.ConnectionBroken, reuse.ErrorId);
        }

        [Fact]
        public async Task Execute_Cancelled_ThrowsOperationCanceledAndBreaksTheConnection()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.ExecuteAsync(new RedisCommand("DEBUG", "SLEEP", "1"), cancel.Token));
            Assert.True(connection.IsBroken);
        }

        [Fact]
        public async Task Execute_ServerGone_FailsWithConnectionClosedAndBreaksTheConnection()
        {
            var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            server.Dispose();
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => connection.ExecuteAsync("PING"));
            Assert.Equal(RedisErrorIds.ConnectionClosed, error.ErrorId);
            Assert.Contains(server.Endpoint, error.Message);
            Assert.True(connection.IsBroken);
        }

        [Fact]
        public async Task Execute_ReplyThatIsNotResp_FailsWithProtocolErrorAndBreaksTheConnection()
        {
            // Something that is not Redis on the port: it answers HELLO like a server, then sends garbage.
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            var impostor = Task.Run(async () =>
            {
                using var client = await listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                var buffer = new byte[4096];
                _ = await stream.ReadAsync(buffer);
                await stream.WriteAsync(Encoding.ASCII.GetBytes("%1\r\n+proto\r\n:3\r\n"));
                _ = await stream.ReadAsync(buffer);
                await stream.WriteAsync(Encoding.ASCII.GetBytes("?not resp\r\n"));
                _ = await stream.ReadAsync(buffer);
            });
            try
            {
                await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Tcp("127.0.0.1", port)));
                Assert.Equal(3, connection.ProtocolVersion);
                var error = await Assert.ThrowsAsync<RedisProtocolException>(() => connection.ExecuteAsync("PING"));
                Assert.Equal(RedisErrorIds.ProtocolError, error.ErrorId);
                Assert.Contains($"127.0.0.1:{port}", error.Message);
                Assert.True(connection.IsBroken);
            }
            finally
            {
                listener.Stop();
                await impostor;
            }
        }

        [Fact]
        public async Task Execute_ServerErrorReply_CarriesTheServerTextAndKeepsTheConnection()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            await connection.ExecuteAsync("SET", "text", "v");
            var error = await Assert.ThrowsAsync<RedisServerErrorException>(() => connection.ExecuteAsync("LPUSH", "text", "x"));
            Assert.Equal(RedisErrorIds.ServerError, error.ErrorId);
            Assert.Equal("WRONGTYPE", error.ErrorPrefix);
            Assert.Contains("WRONGTYPE Operation against a key holding the wrong kind of value", error.Message);
            Assert.Equal("PONG", (await connection.ExecuteAsync("PING")).AsString());
        }

        [Fact]
        public async Task Execute_RenamedCommand_FailsWithCommandUnavailableNamingItAndTheAdvice()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.AsManagedService());
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            var command = new RedisCommand("SYNC") { UnavailableAdvice = "Use -Method Logical instead." };
            var error = await Assert.ThrowsAsync<RedisServerErrorException>(() => connection.ExecuteAsync(command));
            Assert.Equal(RedisErrorIds.CommandUnavailable, error.ErrorId);
            Assert.Equal(FailureKind.CommandUnavailable, error.Kind);
            Assert.Contains("SYNC", error.Message);
            Assert.EndsWith("Use -Method Logical instead.", error.Message);
            var config = await Assert.ThrowsAsync<RedisServerErrorException>(() => connection.ExecuteAsync("CONFIG", "GET", "secret-looking-argument"));
            Assert.Equal(RedisErrorIds.CommandUnavailable, config.ErrorId);
            Assert.DoesNotContain("secret-looking-argument", config.Message);
        }

        [Fact]
        public async Task Execute_CommandDeniedByAcl_FailsWithCommandNotPermitted()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithAclUser("reader", "reader-Pass1", "~* +@read +@connection"));
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { Credential = new RedisCredential("reader", "reader-Pass1") };
            await using var connection = await RedisConnection.ConnectAsync(options);
            var error = await Assert.ThrowsAsync<RedisServerErrorException>(() => connection.ExecuteAsync("CONFIG", "GET", "save"));
            Assert.Equal(RedisErrorIds.CommandNotPermitted, error.ErrorId);
            Assert.Contains("reader", error.Message);
        }

        [Fact]
        public async Task ExecuteBatch_ManyCommands_RepliesComeBackInOrderWithErrorsInPlace()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));
            var commands = new List<RedisCommand>();
            for (var i = 0; i < 5000; i++)
            {
                commands.Add(new RedisCommand("SET", $"key:{i}", $"value:{i}"));
            }
            commands.Add(new RedisCommand("LPUSH", "key:0", "x"));
            for (var i = 0; i < 5000; i++)
            {
                commands.Add(new RedisCommand("GET", $"key:{i}"));
            }
            var replies = await connection.ExecuteBatchAsync(commands);
            Assert.Equal(commands.Count, replies.Count);
            Assert.All(replies.Take(5000), reply => Assert.Equal("OK", reply.AsString()));
            Assert.True(replies[5000].IsError);
            Assert.Equal(RedisErrorIds.ServerError, connection.ToException(commands[5000], replies[5000]).ErrorId);
            for (var i = 0; i < 5000; i++)
            {
                Assert.Equal($"value:{i}", replies[5001 + i].AsString());
            }
        }

        [Fact]
        public async Task Pipeline_BulkLoadLargerThanTheInFlightBound_ReadsRepliesAsItGoesAndKeepsOrder()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { MaxInFlightBytes = 64 * 1024 };
            await using var connection = await RedisConnection.ConnectAsync(options);
            var answered = new List<int>();
            var pipeline = connection.CreatePipeline<int>((index, reply) =>
            {
                Assert.Equal(index, reply.Integer - 1);
                answered.Add(index);
            });
            var value = new byte[1000];
            var maxPending = 0;
            for (var i = 0; i < 3000; i++)
            {
                await pipeline.SendAsync(new RedisCommand("RPUSH", "list", value), i);
                maxPending = Math.Max(maxPending, pipeline.Pending);
            }
            await pipeline.CompleteAsync();
            Assert.Equal(Enumerable.Range(0, 3000), answered);
            Assert.InRange(maxPending, 2, 70);
            Assert.Equal(3000, pipeline.Answered);
            Assert.Equal(3000L, (await connection.ExecuteAsync("LLEN", "list")).Integer);
        }

        [Fact]
        public async Task ReadRaw_AfterSync_ReadsTheRdbPayloadThatFollowsTheReply()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output, Arguments = { "--repl-diskless-sync", "no" } });
            await using var connection = await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { Protocol = RespProtocolPreference.Resp2 });
            await connection.ExecuteAsync("SET", "k", "v");
            await connection.SendAsync(new RedisCommand("SYNC"));
            string header;
            do
            {
                header = await connection.ReadLineAsync();
            }
            while (header.Length == 0);
            Assert.StartsWith("$", header);
            var length = int.Parse(header.Substring(1));
            var payload = new byte[length];
            var filled = 0;
            while (filled < length)
            {
                filled += await connection.ReadRawAsync(payload.AsMemory(filled));
            }
            Assert.Equal("REDIS", Encoding.ASCII.GetString(payload, 0, 5));
        }

        internal static void AssertNoSecret(Exception error, string secret)
        {
            for (var current = error; current != null; current = current.InnerException)
            {
                Assert.DoesNotContain(secret, current.Message);
                Assert.DoesNotContain(secret, current.ToString());
            }
        }
    }
}
