using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using RedisRecovery.Rdb;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Rdb
{
    /// <summary>
    /// What a real redis-server 7.0 makes of our output: DUMP payloads restored with RESTORE, and RDB files written
    /// by <see cref="RdbWriter"/>, must give the manifest's dbsize and DEBUG DIGEST of a native load.
    /// </summary>
    public sealed class RdbServerTests
    {
        private readonly ITestOutputHelper _output;

        public RdbServerTests(ITestOutputHelper output) => _output = output;

        public static IEnumerable<object[]> NativelyLoadedRdbFiles =>
            FixtureManifest.Rows(c => c.Kind == "rdb" && c.ExpectValid && c.NativeLoadOk);

        public static IEnumerable<object[]> WritableRdbFiles =>
            FixtureManifest.Rows(c => c.Kind == "rdb" && c.ExpectValid && c.RdbVersion != "valkey80");

        [Theory]
        [MemberData(nameof(NativelyLoadedRdbFiles))]
        public async Task Restore_OfDumpPayloads_GivesTheNativeDbsizeAndDigest(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            await using var server = await StartServerAsync(null);
            await using var connection = await ConnectAsync(server);
            var now = DateTimeOffset.UtcNow;
            var database = -1;
            using var reader = new RdbReader(File.OpenRead(fixture.FullPath), new RdbReaderOptions { SourceName = fixture.FullPath });
            while (await reader.ReadEntryAsync() is RdbEntry entry)
            {
                // A server loading the file as master drops keys already expired; RESTORE would refuse them too.
                if (entry.IsExpiredAt(now))
                {
                    continue;
                }
                if (entry.Database != database)
                {
                    await ExpectOkAsync(connection, "SELECT", entry.Database);
                    database = entry.Database;
                }
                var payload = RdbDumpPayload.Create(entry);
                if (entry.ExpiresAtMs is long expiry)
                {
                    await ExpectOkAsync(connection, "RESTORE", entry.Key, expiry, payload, "ABSTTL");
                }
                else
                {
                    await ExpectOkAsync(connection, "RESTORE", entry.Key, 0, payload);
                }
            }

            await AssertLikeNativeLoadAsync(fixture, connection);
        }

        [Theory]
        [MemberData(nameof(WritableRdbFiles))]
        public async Task Writer_RoundTrip_ParsesEqual_AndRealServerLoadsItLikeTheOriginal(string relativePath)
        {
            var fixture = FixtureManifest.Get(relativePath);
            var original = await ReadAllAsync(File.ReadAllBytes(fixture.FullPath));
            var written = new MemoryStream();
            await using (var writer = new RdbWriter(written, new RdbWriterOptions { Version = original.Info.Version, LeaveOpen = true }))
            {
                foreach (var aux in original.Info.AuxFields)
                {
                    await writer.WriteAuxAsync(aux.Name, aux.Value);
                }
                foreach (var library in original.Info.Functions.Where(f => f.Name is null))
                {
                    await writer.WriteFunctionAsync(library.Code);
                }
                foreach (var entry in original.Entries)
                {
                    await writer.WriteEntryAsync(entry);
                }
                await writer.CompleteAsync();
            }

            var copy = await ReadAllAsync(written.ToArray());
            Assert.Equal(RdbChecksumStatus.Valid, copy.ChecksumStatus is RdbChecksumStatus.NotComputed && copy.Info.Version < 5 ? RdbChecksumStatus.Valid : copy.ChecksumStatus);
            Assert.Equal(original.Info.AuxFields.Select(a => (a.Name, Convert.ToBase64String(a.Value))), copy.Info.AuxFields.Select(a => (a.Name, Convert.ToBase64String(a.Value))));
            Assert.Equal(original.Entries.Count, copy.Entries.Count);
            for (var i = 0; i < original.Entries.Count; i++)
            {
                var (expected, actual) = (original.Entries[i], copy.Entries[i]);
                Assert.Equal(expected.Database, actual.Database);
                Assert.Equal(expected.Key, actual.Key);
                Assert.Equal(expected.TypeId, actual.TypeId);
                Assert.Equal(expected.Encoding, actual.Encoding);
                Assert.Equal(expected.ExpiresAtMs, actual.ExpiresAtMs);
                Assert.Equal(expected.IdleSeconds, actual.IdleSeconds);
                Assert.Equal(expected.LfuFrequency, actual.LfuFrequency);
                Assert.True(expected.Value.Span.SequenceEqual(actual.Value.Span), $"value of entry {i} differs");
            }

            if (fixture.NativeLoadOk)
            {
                var directory = RedisServerProcess.CreateTempDirectory();
                File.WriteAllBytes(Path.Combine(directory, "dump.rdb"), written.ToArray());
                await using var server = await StartServerAsync(directory);
                await using var connection = await ConnectAsync(server);
                await AssertLikeNativeLoadAsync(fixture, connection);
            }
        }

        [Fact]
        public async Task DumpPayload_FromOurEncoder_IsWhatTheServerDumps()
        {
            var fixture = FixtureManifest.Get("generated/rdb/dump-7.0.15.rdb");
            await using var server = await StartServerAsync(null);
            await using var connection = await ConnectAsync(server);
            var database = -1;
            var compared = 0;
            using var reader = new RdbReader(File.OpenRead(fixture.FullPath), new RdbReaderOptions { SourceName = fixture.FullPath });
            while (await reader.ReadEntryAsync() is RdbEntry entry)
            {
                if (entry.IsExpiredAt(DateTimeOffset.UtcNow))
                {
                    continue;
                }
                if (entry.Database != database)
                {
                    await ExpectOkAsync(connection, "SELECT", entry.Database);
                    database = entry.Database;
                }
                await ExpectOkAsync(connection, "RESTORE", entry.Key, 0, RdbDumpPayload.Create(entry), "REPLACE");
                var dumped = (await connection.ExecuteAsync("DUMP", entry.Key)).Bytes!;
                var content = RdbDumpPayload.Parse(dumped);
                Assert.Equal(RdbChecksumStatus.Valid, content.Checksum);
                Assert.Equal(10, content.RdbVersion);
                var parsed = await RdbDumpPayload.ToEntryAsync(dumped, entry.Database, entry.Key);
                Assert.Equal(entry.TypeId, parsed.TypeId);
                var ours = await entry.DecodeValueAsync();
                var theirs = await parsed.DecodeValueAsync();
                Assert.Equal(RdbValueText.Describe(ours), RdbValueText.Describe(theirs));
                compared++;
            }
            Assert.Equal(49, compared);
        }

        private static async Task<(RdbFileInfo Info, List<RdbEntry> Entries, RdbChecksumStatus ChecksumStatus)> ReadAllAsync(byte[] bytes)
        {
            using var reader = new RdbReader(new MemoryStream(bytes), new RdbReaderOptions { LargeValueThreshold = 64 * 1024 * 1024 });
            var entries = new List<RdbEntry>();
            while (await reader.ReadEntryAsync() is RdbEntry entry)
            {
                entries.Add(entry);
            }
            return (reader.Info, entries, reader.ChecksumStatus);
        }

        private Task<RedisServerProcess> StartServerAsync(string? directory)
        {
            var options = new RedisServerOptions { Directory = directory, Output = _output };
            options.Arguments.AddRange(new[] { "--enable-debug-command", "yes", "--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb" });
            return RedisServerProcess.StartAsync(options);
        }

        private static Task<RedisConnection> ConnectAsync(RedisServerProcess server) =>
            RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));

        private static async Task ExpectOkAsync(RedisConnection connection, string command, params RedisArgument[] arguments)
        {
            var reply = await connection.ExecuteAsync(command, arguments);
            Assert.False(reply.IsError, $"{command}: {reply.AsString()}");
        }

        private static async Task AssertLikeNativeLoadAsync(FixtureCase fixture, RedisConnection connection)
        {
            var keyspace = (await connection.ExecuteAsync("INFO", "keyspace")).AsString() ?? "";
            var sizes = Regex.Matches(keyspace, @"db(\d+):keys=(\d+)").Cast<Match>()
                .ToDictionary(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal(fixture.DbSize!.OrderBy(p => p.Key), sizes.OrderBy(p => p.Key));
            Assert.Equal(fixture.Digest, (await connection.ExecuteAsync("DEBUG", "DIGEST")).AsString());
        }
    }
}
