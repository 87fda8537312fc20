using System;
using System.Security.Cryptography;
using System.Text;
using RedisRecovery.Rdb;
using Xunit;

namespace RedisRecovery.Tests.Rdb
{
    /// <summary>The digest's managed SHA-1 gives the platform's SHA-1 at every length it is used for.</summary>
    public sealed class ShortSha1Tests
    {
        [Fact]
        public void Hash_EqualsThePlatformsSha1_AtEveryLengthUpToTheLimit()
        {
            var random = new Random(20261206);
            var data = new byte[ShortSha1.MaxLength];
            random.NextBytes(data);
            var ours = new byte[20];
            for (var length = 0; length <= ShortSha1.MaxLength; length++)
            {
                var input = data.AsSpan(0, length);
                ShortSha1.Hash(input, ours);
                Assert.True(SHA1.HashData(input).AsSpan().SequenceEqual(ours), $"length {length}");
            }
        }

        [Theory]
        [InlineData("", "da39a3ee5e6b4b0d3255bfef95601890afd80709")]
        [InlineData("abc", "a9993e364706816aba3e25717850c26c9cd0d89d")]
        [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1")]
        public void Hash_GivesTheStandardsTestVectors(string message, string expected)
        {
            var ours = new byte[20];
            ShortSha1.Hash(Encoding.ASCII.GetBytes(message), ours);
            Assert.Equal(expected, Convert.ToHexString(ours).ToLowerInvariant());
        }
    }
}
