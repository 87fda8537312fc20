using System;
using System.Threading.Tasks;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Resp
{
    public sealed class RedisTlsTests
    {
        private readonly ITestOutputHelper _output;

        public RedisTlsTests(ITestOutputHelper output) => _output = output;

        private static TestCertificates Pki => TestCertificates.Instance;

        [Fact]
        public async Task Connect_TlsWithTheSigningCa_SucceedsOverTls()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithTls(Pki));
            var options = new RedisConnectionOptions(RedisEndpoint.Parse($"rediss://{server.Endpoint}")) { Tls = { CaCertificatePath = Pki.CaCertificate } };
            await using var connection = await RedisConnection.ConnectAsync(options);
            Assert.True(connection.IsTls);
            Assert.Equal("PONG", (await connection.ExecuteAsync("PING")).AsString());
        }

        [Fact]
        public async Task Connect_ByHostName_ValidatesTheCertificateAgainstThatName()
        {
            // "localhost" may resolve to ::1 first, where nothing listens: the client must go on to 127.0.0.1.
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithTls(Pki));
            var options = new RedisConnectionOptions(RedisEndpoint.Parse($"rediss://localhost:{server.Port}")) { Tls = { CaCertificatePath = Pki.CaCertificate } };
            await using var connection = await RedisConnection.ConnectAsync(options);
            Assert.Equal("PONG", (await connection.ExecuteAsync("PING")).AsString());
        }

        [Fact]
        public async Task Connect_TlsWithoutTrustedCa_FailsSayingTheCertificateIsNotTrusted()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithTls(Pki));
            var options = new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { UseTls = true };
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
            Assert.Equal(RedisErrorIds.TlsHandshakeFailed, error.ErrorId);
            Assert.Equal(FailureKind.SecurityError, error.Kind);
            Assert.Contains("not trusted", error.Message);
            Assert.Contains(server.Endpoint, error.Message);
        }

        [Fact]
        public async Task Connect_TlsWithAnotherCa_FailsSayingItDoesNotChainToThatCa()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithTls(Pki));
            var options = new RedisConnectionOptions(RedisEndpoint.Parse($"rediss://{server.Endpoint}")) { Tls = { CaCertificatePath = Pki.OtherCaCertificate } };
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
            Assert.Equal(RedisErrorIds.TlsHandshakeFailed, error.ErrorId);
            Assert.Contains("does not chain to a CA in", error.Message);
        }

        [Fact]
        public async Task Connect_CertificateForAnotherName_FailsWithNameMismatch()
        {
            var options = new RedisServerOptions { Output = _output }.WithTls(Pki);
            options.Arguments[options.Arguments.IndexOf("--tls-cert-file") + 1] = Pki.WrongNameCertificate;
            options.Arguments[options.Arguments.IndexOf("--tls-key-file") + 1] = Pki.WrongNameKey;
            using var server = await RedisServerProcess.StartAsync(options);
            var connect = new RedisConnectionOptions(RedisEndpoint.Parse($"rediss://{server.Endpoint}")) { Tls = { CaCertificatePath = Pki.CaCertificate } };
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(connect));
            Assert.Equal(RedisErrorIds.TlsHandshakeFailed, error.ErrorId);
            Assert.Contains("name mismatch", error.Message);
            Assert.Contains("127.0.0.1", error.Message);

            // The same certificate is accepted when the caller names the host it was issued for.
            connect.Tls.ServerName = "redis.example.invalid";
            await using var connection = await RedisConnection.ConnectAsync(connect);
            Assert.Equal("PONG", (await connection.ExecuteAsync("PING")).AsString());
        }

        [Fact]
        public async Task Connect_SkipCertificateCheck_AcceptsAnUntrustedCertificate()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithTls(Pki));
            var options = new RedisConnectionOptions(RedisEndpoint.Parse($"rediss://{server.Endpoint}")) { Tls = { SkipCertificateCheck = true } };
            await using var connection = await RedisConnection.ConnectAsync(options);
            Assert.Equal("PONG", (await connection.ExecuteAsync("PING")).AsString());
        }

        [Theory]
        [InlineData("pem")]
        [InlineData("pfx")]
        public async Task Connect_ServerRequiringClientCertificate_AcceptsOurs(string format)
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithTls(Pki, requireClientCertificate: true).WithAclUser().RequirePass());
            var options = new RedisConnectionOptions(RedisEndpoint.Parse($"rediss://{server.Endpoint}"))
            {
                Credential = new RedisCredential(RedisServerVariants.AclUser, RedisServerVariants.AclPassword),
                Tls = { CaCertificatePath = Pki.CaCertificate },
            };
            if (format == "pem")
            {
                options.Tls.ClientCertificatePath = Pki.ClientCertificate;
                options.Tls.ClientKeyPath = Pki.ClientKey;
            }
            else
            {
                options.Tls.ClientCertificatePath = Pki.ClientPfx;
                options.Tls.ClientCertificatePassword = TestCertificates.ClientPfxPassword;
            }
            await using var connection = await RedisConnection.ConnectAsync(options);
            Assert.Equal(RedisServerVariants.AclUser, (await connection.ExecuteAsync("ACL", "WHOAMI")).AsString());
        }

        [Fact]
        public async Task Connect_ServerRequiringClientCertificateWithoutOne_FailsWithTlsHandshakeFailed()
        {
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithTls(Pki, requireClientCertificate: true));
            var options = new RedisConnectionOptions(RedisEndpoint.Parse($"rediss://{server.Endpoint}")) { Tls = { CaCertificatePath = Pki.CaCertificate } };
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
            Assert.Equal(RedisErrorIds.TlsHandshakeFailed, error.ErrorId);
            Assert.Contains("client certificate", error.Message);
        }

        [Fact]
        public async Task Connect_TlsToAPlainPort_TimesOutSayingTheHandshakeDidNotComplete()
        {
            // A plain port takes the ClientHello for the start of a command and waits for the rest of the line.
            using var server = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output });
            var options = new RedisConnectionOptions(RedisEndpoint.Parse($"rediss://{server.Endpoint}")) { ConnectTimeout = TimeSpan.FromSeconds(1) };
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
            Assert.Equal(RedisErrorIds.ConnectTimeout, error.ErrorId);
            Assert.Contains("TLS handshake did not complete", error.Message);
        }

        [Fact]
        public async Task Connect_MissingCaFile_FailsWithTlsConfigurationInvalid()
        {
            var options = new RedisConnectionOptions(RedisEndpoint.Parse("rediss://127.0.0.1:1")) { Tls = { CaCertificatePath = "/nonexistent/ca.pem" } };
            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => RedisConnection.ConnectAsync(options));
            Assert.Equal(RedisErrorIds.TlsConfigurationInvalid, error.ErrorId);
            Assert.Contains("/nonexistent/ca.pem", error.Message);
        }
    }
}
