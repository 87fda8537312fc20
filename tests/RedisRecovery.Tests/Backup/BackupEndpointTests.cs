using RedisRecovery.Backup;

namespace RedisRecovery.Tests.Backup
{
    public sealed class BackupEndpointTests
    {
        [Theory]
        [InlineData("cache:6380", "cache:6380")]
        [InlineData("cache", "cache:6379")]
        [InlineData("redis://admin:s3cret@cache:6380/3?timeout=5", "cache:6380")]
        [InlineData("rediss://:p%40ss@10.0.0.5", "10.0.0.5:6379")]
        [InlineData("user:pw@cache:7000", "cache:7000")]
        [InlineData("[::1]:7000", "[::1]:7000")]
        [InlineData("::1", "[::1]:6379")]
        public void ToHostPort_KeepsOnlyHostAndPort(string endpoint, string expected)
        {
            Assert.Equal(expected, BackupEndpoint.ToHostPort(endpoint));
        }

        [Theory]
        [InlineData("")]
        [InlineData("redis://admin:s3cret@cache:99999")]
        [InlineData("cache:port")]
        public void ToHostPort_RejectsMalformedEndpoints_WithoutEchoingThem(string endpoint)
        {
            var error = Assert.Throws<RedisRecoveryException>(() => BackupEndpoint.ToHostPort(endpoint));
            Assert.Equal("InvalidEndpoint", error.ErrorId);
            Assert.DoesNotContain("s3cret", error.Message);
        }
    }
}
