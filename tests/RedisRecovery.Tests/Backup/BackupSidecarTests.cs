using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Backup;

namespace RedisRecovery.Tests.Backup
{
    public sealed class BackupSidecarTests
    {
        private static readonly string SomeSha256 = new string('a', 64);

        [Fact]
        public void RoundTrip_KeepsEveryField_AndWritesTheDocumentedSchema()
        {
            var sidecar = new BackupSidecar
            {
                Name = "cache-6379",
                Endpoint = "cache:6379",
                Method = BackupMethod.Logical,
                CreatedUtc = new DateTime(2026, 11, 22, 2, 0, 0, DateTimeKind.Utc),
                SizeBytes = 1234,
                Sha256 = SomeSha256,
                RdbVersion = 10,
                RedisVersion = "7.0.15",
                KeysPerDatabase = new Dictionary<int, long> { [0] = 10, [3] = 2 },
                PointInTime = false,
            };

            var json = sidecar.ToUtf8Json();
            var parsed = BackupSidecar.Parse(json, "test");

            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
            Assert.Equal("Logical", root.GetProperty("method").GetString());
            Assert.Equal("2026-11-22T02:00:00Z", root.GetProperty("createdUtc").GetString());
            Assert.Equal(2, root.GetProperty("keysPerDatabase").GetProperty("3").GetInt64());
            Assert.False(root.GetProperty("encrypted").GetBoolean());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("plaintextSha256").ValueKind);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("ciphertextSha256").ValueKind);

            Assert.Equal(sidecar.Name, parsed.Name);
            Assert.Equal(sidecar.Method, parsed.Method);
            Assert.Equal(sidecar.CreatedUtc, parsed.CreatedUtc);
            Assert.Equal(DateTimeKind.Utc, parsed.CreatedUtc.Kind);
            Assert.Equal(sidecar.SizeBytes, parsed.SizeBytes);
            Assert.Equal(sidecar.Sha256, parsed.Sha256);
            Assert.Equal(sidecar.KeysPerDatabase, parsed.KeysPerDatabase);
            Assert.False(parsed.PointInTime);
        }

        [Fact]
        public void CreatedUtc_WrittenWithAnOffset_IsReadAsUtc()
        {
            var parsed = BackupSidecar.Parse(Json("\"createdUtc\": \"2026-11-22T03:00:00+01:00\""), "test");
            Assert.Equal(new DateTime(2026, 11, 22, 2, 0, 0, DateTimeKind.Utc), parsed.CreatedUtc);
            Assert.Equal(DateTimeKind.Utc, parsed.CreatedUtc.Kind);
        }

        [Theory]
        [InlineData("{ not json", "not a valid sidecar")]
        [InlineData("null", "null")]
        [InlineData("{\"schemaVersion\": 1}", "not a valid sidecar")]
        public void Parse_RejectsDocumentsThatAreNotSidecars(string text, string expected)
        {
            var error = Assert.Throws<RedisRecoveryException>(() => BackupSidecar.Parse(Encoding.UTF8.GetBytes(text), "x.rdb.json"));
            Assert.Equal("BackupSidecarInvalid", error.ErrorId);
            Assert.Equal(FailureKind.CorruptData, error.Kind);
            Assert.Contains(expected, error.Message);
            Assert.StartsWith("x.rdb.json: ", error.Message);
        }

        [Theory]
        [InlineData("\"schemaVersion\": 2", "newer")]
        [InlineData("\"schemaVersion\": 0", "schemaVersion")]
        [InlineData("\"sha256\": \"ABC\"", "sha256")]
        [InlineData("\"sizeBytes\": -1", "sizeBytes")]
        [InlineData("\"name\": \"../x\"", "name")]
        [InlineData("\"method\": \"Telepathy\"", "not a valid sidecar")]
        [InlineData("\"keysPerDatabase\": {\"0\": -5}", "keysPerDatabase")]
        public void Parse_RejectsInvalidFields(string replacement, string expected)
        {
            Assert.False(BackupSidecar.TryParse(Json(replacement), out var sidecar, out var problem));
            Assert.Null(sidecar);
            Assert.Contains(expected, problem);
        }

        [Fact]
        public async Task Writer_NeverPutsCredentialsInTheSidecar()
        {
            using var directory = new BackupTestDirectory();
            var request = new BackupWriteRequest(null, DateTime.UtcNow, "redis://admin:s3cretPassw0rd@cache.internal:6380/2?ssl=true", BackupMethod.Replication, pointInTime: true);
            var backup = await new BackupWriter(directory.Store).WriteAsync(request,
                (stream, ct) => stream.WriteAsync(new byte[] { 1, 2, 3 }, 0, 3, ct),
                (staged, ct) => Task.FromResult(new RdbContentFacts(11, new Dictionary<int, long>())),
                null, CancellationToken.None);

            var json = File.ReadAllText(backup.SidecarPath);
            Assert.DoesNotContain("s3cretPassw0rd", json);
            Assert.DoesNotContain("admin", json);
            Assert.Contains("\"endpoint\": \"cache.internal:6380\"", json);
            Assert.Equal("cache.internal-6380", backup.Name);
            Assert.DoesNotContain("s3cret", backup.Path);
        }

        private static byte[] Json(string replacement)
        {
            var fields = new Dictionary<string, string>
            {
                ["schemaVersion"] = "1",
                ["name"] = "\"cache-6379\"",
                ["method"] = "\"Bgsave\"",
                ["createdUtc"] = "\"2026-11-22T02:00:00Z\"",
                ["sizeBytes"] = "10",
                ["sha256"] = "\"" + SomeSha256 + "\"",
            };
            var separator = replacement.IndexOf(':');
            fields[replacement.Substring(0, separator).Trim().Trim('"')] = replacement.Substring(separator + 1).Trim();
            var builder = new StringBuilder("{");
            foreach (var field in fields)
            {
                builder.Append('"').Append(field.Key).Append("\": ").Append(field.Value).Append(',');
            }
            builder.Length--;
            return Encoding.UTF8.GetBytes(builder.Append('}').ToString());
        }
    }
}
