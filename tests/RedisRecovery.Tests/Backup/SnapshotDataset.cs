using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Backup
{
    /// <summary>
    /// A small dataset with every value type in its compact and its large encoding, binary keys, expiries far in
    /// the future and several databases; and the DEBUG DIGEST check that a backup loads back to the same data.
    /// </summary>
    internal static class SnapshotDataset
    {
        public static readonly int[] Databases = { 0, 3, 15 };

        /// <summary>2100-01-01: an expiry no test run reaches, so every key survives loading.</summary>
        public const long FarFutureUnixMs = 4_102_444_800_000;

        public static RedisConnectionOptions Options(RedisServerProcess server, int database = 0) =>
            new(RedisEndpoint.Parse(server.Endpoint)) { Database = database };

        /// <summary>Fills the databases; returns the keys per database.</summary>
        public static async Task<IReadOnlyDictionary<int, long>> FillAsync(RedisServerProcess server)
        {
            var counts = new Dictionary<int, long>();
            foreach (var database in Databases)
            {
                await using var connection = await RedisConnection.ConnectAsync(Options(server, database));
                var commands = Commands(database).ToList();
                var replies = await connection.ExecuteBatchAsync(commands);
                var failed = replies.Select((reply, index) => (reply, index)).FirstOrDefault(pair => pair.reply.IsError);
                Assert.True(failed.reply == null, failed.reply == null ? "" : $"{commands[failed.index].Name}: {failed.reply.AsString()}");
                counts[database] = (await connection.ExecuteAsync("DBSIZE")).Integer;
            }
            return counts;
        }

        public static async Task<string> DigestAsync(RedisServerProcess server)
        {
            await using var connection = await RedisConnection.ConnectAsync(Options(server));
            return (await connection.ExecuteAsync("DEBUG", "DIGEST")).AsString()!;
        }

        /// <summary>Starts a new server on a copy of <paramref name="rdbPath"/> and returns its digest.</summary>
        public static async Task<string> LoadedDigestAsync(string rdbPath, ITestOutputHelper output)
        {
            var directory = RedisServerProcess.CreateTempDirectory();
            File.Copy(rdbPath, Path.Combine(directory, "dump.rdb"));
            try
            {
                using var loaded = await RedisServerProcess.StartAsync(new RedisServerOptions { Directory = directory, Output = output });
                return await DigestAsync(loaded);
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        private static IEnumerable<RedisCommand> Commands(int database)
        {
            string K(string name) => $"db{database}:{name}";
            var large = Enumerable.Range(0, 300).ToArray();
            yield return new RedisCommand("SET", K("string"), "plain value");
            yield return new RedisCommand("SET", K("integer"), 123456789);
            yield return new RedisCommand("SET", K("long-string"), new string('x', 5000));
            yield return new RedisCommand("SET", new byte[] { 0, 0xFF, (byte)'\r', (byte)'\n', (byte)database }, new byte[] { 1, 2, 3, 0 });
            yield return new RedisCommand("RPUSH", new RedisArgument[] { K("list") }.Concat(new RedisArgument[] { "a", "b", "c" }));
            yield return new RedisCommand("RPUSH", new RedisArgument[] { K("big-list") }.Concat(large.Select(i => (RedisArgument)new string('l', 100 + i))));
            yield return new RedisCommand("SADD", new RedisArgument[] { K("intset") }.Concat(new RedisArgument[] { 1, 2, 3, 42 }));
            yield return new RedisCommand("SADD", new RedisArgument[] { K("set") }.Concat(new RedisArgument[] { "red", "green", "blue" }));
            yield return new RedisCommand("SADD", new RedisArgument[] { K("big-set") }.Concat(large.Select(i => (RedisArgument)$"member-{i}")));
            yield return new RedisCommand("ZADD", K("zset"), 1.5, "one", 2, "two", -3.25, "three");
            yield return new RedisCommand("ZADD", new RedisArgument[] { K("big-zset") }.Concat(large.SelectMany(i => new RedisArgument[] { i * 0.5, $"z-{i}" })));
            yield return new RedisCommand("HSET", K("hash"), "field", "value", "n", 7);
            yield return new RedisCommand("HSET", new RedisArgument[] { K("big-hash") }.Concat(large.SelectMany(i => new RedisArgument[] { $"f{i}", new string('h', i) })));
            yield return new RedisCommand("XADD", K("stream"), "1-1", "sensor", "a", "value", 1);
            yield return new RedisCommand("XADD", K("stream"), "2-1", "sensor", "b", "value", 2);
            yield return new RedisCommand("XGROUP", "CREATE", K("stream"), "readers", "0");
            yield return new RedisCommand("XREADGROUP", "GROUP", "readers", "alice", "COUNT", 1, "STREAMS", K("stream"), ">");
            yield return new RedisCommand("SET", K("expiring-string"), "soon");
            yield return new RedisCommand("PEXPIREAT", K("expiring-string"), FarFutureUnixMs);
            yield return new RedisCommand("HSET", K("expiring-hash"), "a", 1);
            yield return new RedisCommand("PEXPIREAT", K("expiring-hash"), FarFutureUnixMs + database);
        }
    }
}
