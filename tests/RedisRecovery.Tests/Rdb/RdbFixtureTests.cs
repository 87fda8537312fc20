using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Tests.Infrastructure;

namespace RedisRecovery.Tests.Rdb
{
    /// <summary>Every RDB of the shared fixtures manifest, checked against the expectations in its columns.</summary>
    public sealed class RdbFixtureTests
    {
        /// <summary>already_expired in the manifest was measured on its build date; the generated file's past keys
        /// expired at 02:15 that day, and no fixture key expires later that day.</summary>
        internal static readonly DateTimeOffset ManifestClock = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

        public static IEnumerable<object[]> ValidRdbFiles => FixtureManifest.Rows(c => c.Kind == "rdb" && c.ExpectValid);

        public static IEnumerable<object[]> CorruptRdbFiles => FixtureManifest.Rows(c => c.Kind == "rdb" && !c.ExpectValid);

        public static IEnumerable<object[]> AofDirectoriesWithRdbBase =>
            FixtureManifest.Rows(c => c.Kind == "aofdir" && c.KeysRead != null);

        [Theory]
        [MemberData(nameof(ValidRdbFiles))]
        public async Task Check_ValidFixture_ParsesWithTheManifestCounts(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            var check = await RdbFileChecker.CheckFileAsync(fixture.FullPath, new RdbCheckOptions { Now = ManifestClock });

            Assert.True(check.IsValid, check.Error);
            Assert.Equal(fixture.RdbVersion == "valkey80" ? 80 : int.Parse(fixture.RdbVersion), check.RdbVersion);
            AssertManifestCounts(fixture, check);
            if (fixture.OracleKeys is long oracleKeys)
            {
                // librdb's round-trip oracles describe a live server after the restore, where expired keys are gone.
                var roundTrip = fixture.Note.Contains("round-trip oracle");
                Assert.Equal(oracleKeys, roundTrip ? check.Keys - check.AlreadyExpired : check.Keys);
            }
            Assert.NotEqual(RdbChecksumStatus.Mismatch, check.ChecksumStatus);
            var trailing = fixture.Features.FirstOrDefault(f => f.StartsWith("trailing-bytes=", StringComparison.Ordinal));
            Assert.Equal(trailing is null ? 0 : long.Parse(trailing.Substring("trailing-bytes=".Length)), check.TrailingBytes);
        }

        [Theory]
        [MemberData(nameof(AofDirectoriesWithRdbBase))]
        public async Task Check_RdbBaseOfAofDirectory_ParsesWithTheManifestCounts(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            var baseFile = Directory.GetFiles(fixture.FullPath, "*.base.rdb").Single();
            var check = await RdbFileChecker.CheckFileAsync(baseFile, new RdbCheckOptions { Now = ManifestClock });

            Assert.True(check.IsValid, check.Error);
            AssertManifestCounts(fixture, check);
        }

        [Theory]
        [MemberData(nameof(CorruptRdbFiles))]
        public async Task Check_CorruptFixture_IsRejectedWithAnOffset(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            var check = await RdbFileChecker.CheckFileAsync(fixture.FullPath, new RdbCheckOptions { Now = ManifestClock });

            Assert.False(check.IsValid);
            Assert.NotNull(check.ErrorId);
            Assert.InRange(check.ErrorOffset!.Value, 0, new FileInfo(fixture.FullPath).Length);
            Assert.Contains(fixture.FullPath, check.Error);
            Assert.Contains("offset " + check.ErrorOffset, check.Error);
        }

        private static void AssertManifestCounts(FixtureCase fixture, RdbFileCheck check)
        {
            if (fixture.KeysRead is long keysRead)
            {
                Assert.Equal(keysRead, check.Keys);
            }
            if (fixture.Expires is long expires)
            {
                Assert.Equal(expires, check.Expires);
            }
            if (fixture.AlreadyExpired is long alreadyExpired)
            {
                Assert.Equal(alreadyExpired, check.AlreadyExpired);
            }
        }
    }
}
