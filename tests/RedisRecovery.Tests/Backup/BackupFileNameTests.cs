using System;
using RedisRecovery.Backup;

namespace RedisRecovery.Tests.Backup
{
    public sealed class BackupFileNameTests
    {
        [Fact]
        public void For_NamesTheBackupWithASortableUtcStamp()
        {
            var created = new DateTimeOffset(2026, 11, 22, 3, 4, 5, 678, TimeSpan.FromHours(1)).UtcDateTime;
            Assert.Equal("cache-6379_20261122T020405Z.rdb", BackupFileName.For("cache-6379", created));
            Assert.Equal("cache-6379_20261122T020405Z.rdb.json", BackupFileName.SidecarFor("cache-6379_20261122T020405Z.rdb"));
        }

        [Fact]
        public void TryParse_ReturnsNameAndUtcTime_AndNamesWithUnderscoresSurvive()
        {
            Assert.True(BackupFileName.TryParse("my_cache-1_20261122T020405Z.rdb", out var name, out var created));
            Assert.Equal("my_cache-1", name);
            Assert.Equal(new DateTime(2026, 11, 22, 2, 4, 5, DateTimeKind.Utc), created);
            Assert.Equal(DateTimeKind.Utc, created.Kind);
        }

        [Theory]
        [InlineData("dump.rdb")]
        [InlineData("cache_20261122T020405Z.rdb.json")]
        [InlineData("cache_20261122T020405.rdb")]
        [InlineData("cache_20261322T020405Z.rdb")]
        [InlineData("_20261122T020405Z.rdb")]
        [InlineData(".cache_20261122T020405Z.rdb")]
        [InlineData("cache-20261122T020405Z.rdb")]
        public void TryParse_RejectsFilesOutsideTheScheme(string fileName)
        {
            Assert.False(BackupFileName.TryParse(fileName, out _, out _));
        }

        [Theory]
        [InlineData("../etc")]
        [InlineData("a/b")]
        [InlineData("a\\b")]
        [InlineData("")]
        [InlineData(".hidden")]
        [InlineData("-dash")]
        [InlineData("caché")]
        [InlineData("with space")]
        public void ValidateName_RejectsPathsAndUnsafeNames(string name)
        {
            var error = Assert.Throws<RedisRecoveryException>(() => BackupFileName.ValidateName(name));
            Assert.Equal("InvalidBackupName", error.ErrorId);
            Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        }

        [Theory]
        [InlineData("cache.example.com:6380", "cache.example.com-6380")]
        [InlineData("redis://admin:s3cret@cache:6379/2", "cache-6379")]
        [InlineData("cache", "cache-6379")]
        [InlineData("[::1]:7000", "1-7000")]
        public void DefaultName_IsHostDashPort_WithoutCredentials(string endpoint, string expected)
        {
            Assert.Equal(expected, BackupFileName.DefaultName(endpoint));
        }
    }
}
