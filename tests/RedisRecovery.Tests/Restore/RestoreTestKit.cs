using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using RedisRecovery.Resp;
using RedisRecovery.Restore;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Restore
{
    /// <summary>Starts target servers and reads what they hold, for the restore tests.</summary>
    internal static class RestoreTestKit
    {
        public static Task<RedisServerProcess> StartTargetAsync(ITestOutputHelper output, string? directory = null, int? port = null, params string[] configLines)
        {
            var options = new RedisServerOptions { Output = output, Directory = directory, Port = port };
            options.ConfigLines.AddRange(configLines);
            return RedisServerProcess.StartAsync(options);
        }

        public static RestoreOptions Options(string source, RedisServerProcess target) =>
            new(source, new RedisConnectionOptions(RedisEndpoint.Parse(target.Endpoint)));

        public static async Task<RedisConnection> ConnectAsync(RedisServerProcess server, int database = 0) =>
            await RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)) { Database = database });

        public static async Task<Dictionary<int, long>> KeyspaceAsync(RedisServerProcess server)
        {
            await using var connection = await ConnectAsync(server);
            var keyspace = (await connection.ExecuteAsync("INFO", "keyspace")).AsString() ?? "";
            return Regex.Matches(keyspace, @"db(\d+):keys=(\d+)").Cast<Match>()
                .ToDictionary(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        }

        public static async Task<string?> DigestAsync(RedisServerProcess server)
        {
            await using var connection = await ConnectAsync(server);
            return (await connection.ExecuteAsync("DEBUG", "DIGEST")).AsString();
        }

        public static string Describe(IReadOnlyDictionary<int, long> counts) =>
            counts.Count == 0 ? "empty" : string.Join(";", counts.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"));

        public static string Describe(RestoreResult result) =>
            $"{result} | skipped {result.KeysSkipped} | via commands {result.KeysViaCommandsCount} | {result.VerificationDetail} | stop: {result.StopReason} | failures: " +
            string.Join("; ", result.KeysFailed.Take(5));
    }
}
