using RedisRecovery.Resp;

namespace RedisRecovery.Tests.Resp
{
    public sealed class RedisEndpointTests
    {
        [Theory]
        [InlineData("127.0.0.1:6380", "127.0.0.1", 6380, false, 0, null, "127.0.0.1:6380")]
        [InlineData("cache.example.com", "cache.example.com", 6379, false, 0, null, "cache.example.com:6379")]
        [InlineData("[::1]:7000", "::1", 7000, false, 0, null, "[::1]:7000")]
        [InlineData("[::1]", "::1", 6379, false, 0, null, "[::1]:6379")]
        [InlineData("::1", "::1", 6379, false, 0, null, "[::1]:6379")]
        [InlineData("redis://db.internal:6390/4", "db.internal", 6390, false, 4, null, "redis://db.internal:6390/4")]
        [InlineData("redis://alice:p%40ss@db.internal:6390", "db.internal", 6390, false, 0, "alice", "redis://alice@db.internal:6390")]
        [InlineData("redis://:legacy@db.internal", "db.internal", 6379, false, 0, null, "db.internal:6379")]
        [InlineData("rediss://bob:x@[2001:db8::5]:6380/1", "2001:db8::5", 6380, true, 1, "bob", "rediss://bob@[2001:db8::5]:6380/1")]
        [InlineData("REDISS://h:1", "h", 1, true, 0, null, "rediss://h:1")]
        public void Parse_TcpForms_GiveHostPortTlsDatabaseAndUser(string text, string host, int port, bool tls, int database, string? user, string display)
        {
            var endpoint = RedisEndpoint.Parse(text);
            Assert.Equal(host, endpoint.Host);
            Assert.Equal(port, endpoint.Port);
            Assert.Equal(tls, endpoint.UseTls);
            Assert.Equal(database, endpoint.Database);
            Assert.Equal(user, endpoint.Credential?.User);
            Assert.Equal(display, endpoint.ToString());
            Assert.Equal(endpoint, RedisEndpoint.Parse(endpoint.ToString()));
        }

        [Theory]
        [InlineData("/var/run/redis/redis.sock", "/var/run/redis/redis.sock", 0)]
        [InlineData("unix:///tmp/r.sock", "/tmp/r.sock", 0)]
        [InlineData("unix:///tmp/r.sock?db=2", "/tmp/r.sock", 2)]
        public void Parse_UnixSocket_GivesThePath(string text, string path, int database)
        {
            var endpoint = RedisEndpoint.Parse(text);
            Assert.True(endpoint.IsUnixSocket);
            Assert.Equal(path, endpoint.UnixSocketPath);
            Assert.Equal(database, endpoint.Database);
            Assert.Equal(endpoint, RedisEndpoint.Parse(endpoint.ToString()));
        }

        [Theory]
        [InlineData("", "empty")]
        [InlineData("host:0", "port '0'")]
        [InlineData("host:70000", "port '70000'")]
        [InlineData("host:abc", "port 'abc'")]
        [InlineData("fe80::1:6379x", "brackets")]
        [InlineData("[::1:6379", "closing ']'")]
        [InlineData("[::1]6379", "':port'")]
        [InlineData("http://host:6379", "scheme 'http'")]
        [InlineData("redis://host:6379/x", "database number")]
        [InlineData("ho st:6379", "contains ' '")]
        public void Parse_Invalid_ThrowsInvalidEndpointSayingWhy(string text, string problem)
        {
            var error = Assert.Throws<RedisRecoveryException>(() => RedisEndpoint.Parse(text));
            Assert.Equal(RedisErrorIds.InvalidEndpoint, error.ErrorId);
            Assert.Equal(FailureKind.InvalidArgument, error.Kind);
            Assert.Contains(problem, error.Message);
        }

        [Fact]
        public void Parse_InvalidUriWithPassword_NeverEchoesThePassword()
        {
            var error = Assert.Throws<RedisRecoveryException>(() => RedisEndpoint.Parse("redis://alice:Hunter2-Secret@host:99999"));
            Assert.DoesNotContain("Hunter2-Secret", error.Message);
            Assert.DoesNotContain("Hunter2-Secret", error.Target?.ToString());
            Assert.Contains("alice", error.Message);
        }

        [Theory]
        [InlineData("redis://alice:Hunter2-Secret@host:6379", "redis://alice:***@host:6379")]
        [InlineData("rediss://:Hunter2-Secret@host:6380/2", "rediss://:***@host:6380/2")]
        [InlineData("redis://Hunter2-Secret@host", "redis://:***@host")]
        [InlineData("redis://alice:Hunter2-Secret@with@at@host:1", "redis://alice:***@host:1")]
        [InlineData("127.0.0.1:6379", "127.0.0.1:6379")]
        [InlineData("/run/redis.sock", "/run/redis.sock")]
        public void Redact_HidesThePasswordOfTypedText_AndKeepsTheRest(string typed, string shown)
        {
            Assert.Equal(shown, RedisEndpoint.Redact(typed));
        }

        [Fact]
        public void ToString_OfEndpointAndCredential_NeverShowsThePassword()
        {
            var endpoint = RedisEndpoint.Parse("rediss://alice:Hunter2-Secret@host:6380/2");
            Assert.DoesNotContain("Hunter2-Secret", endpoint.ToString());
            Assert.DoesNotContain("Hunter2-Secret", endpoint.Credential!.ToString());
            Assert.Equal("user alice, password (hidden)", endpoint.Credential.ToString());
            Assert.Equal("password (hidden)", new RedisCredential(null, "Hunter2-Secret").ToString());
            // Nothing public hands the password out: PowerShell formatting and serializers see only public properties.
            Assert.DoesNotContain(typeof(RedisCredential).GetProperties(), property => property.Name == "Password");
        }
    }
}
