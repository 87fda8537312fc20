using System;
using System.Threading.Tasks;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Resp
{
    /// <summary>Whatever fails, the password given in a URI or a credential never appears in what the caller can see.</summary>
    public sealed class SecretHandlingTests
    {
        private const string Secret = "Zebra-Unique-Secret-93";
        private readonly ITestOutputHelper _output;

        public SecretHandlingTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public async Task EveryConnectFailure_WithThePasswordInTheUri_KeepsItOutOfMessagesTargetsAndToString()
        {
            using var secured = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.RequirePass());
            using var tls = await RedisServerProcess.StartAsync(new RedisServerOptions { Output = _output }.WithTls(TestCertificates.Instance));
            var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            silent.Start();
            try
            {
                var silentPort = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
                var failures = new[]
                {
                    $"redis://alice:{Secret}@127.0.0.1:{RedisServerProcess.FreePort()}",
                    $"redis://alice:{Secret}@{secured.Endpoint}",
                    $"redis://:{Secret}@{secured.Endpoint}",
                    $"rediss://alice:{Secret}@{tls.Endpoint}",
                    $"redis://alice:{Secret}@127.0.0.1:{silentPort}",
                    $"redis://alice:{Secret}@no-such-host.invalid:6379",
                    $"redis://alice:{Secret}@127.0.0.1:99999",
                };
                foreach (var text in failures)
                {
                    var error = await Assert.ThrowsAnyAsync<RedisRecoveryException>(async () =>
                    {
                        var options = new RedisConnectionOptions(RedisEndpoint.Parse(text)) { ConnectTimeout = TimeSpan.FromMilliseconds(500) };
                        Assert.DoesNotContain(Secret, options.Endpoint.ToString());
                        await using var connection = await RedisConnection.ConnectAsync(options);
                    });
                    _output.WriteLine($"{error.ErrorId}: {error.Message}");
                    RedisConnectionTests.AssertNoSecret(error, Secret);
                    Assert.DoesNotContain(Secret, error.Target?.ToString() ?? string.Empty);
                }
            }
            finally
            {
                silent.Stop();
            }
        }
    }
}
