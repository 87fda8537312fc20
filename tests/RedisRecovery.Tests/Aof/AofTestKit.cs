using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using RedisRecovery.Resp;
using RedisRecovery.Tests.Infrastructure;

namespace RedisRecovery.Tests.Aof
{
    /// <summary>Builds small AOFs byte by byte, copies fixtures to writable places and runs the Redis tools.</summary>
    internal static class AofTestKit
    {
        public static byte[] Command(params string[] arguments)
        {
            var text = new StringBuilder().Append('*').Append(arguments.Length).Append("\r\n");
            foreach (var argument in arguments)
            {
                text.Append('$').Append(Encoding.UTF8.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
            }
            return Encoding.UTF8.GetBytes(text.ToString());
        }

        public static byte[] Timestamp(long unixSeconds) => Encoding.ASCII.GetBytes($"#TS:{unixSeconds}\r\n");

        public static byte[] Concat(IEnumerable<byte[]> parts) => parts.SelectMany(p => p).ToArray();

        /// <summary>A temp directory removed on dispose.</summary>
        public static TempDirectory NewTempDirectory() => new(RedisServerProcess.CreateTempDirectory());

        /// <summary>A writable copy of a fixture file or directory (the shared fixtures are read-only).</summary>
        public static string CopyFixture(string source, string targetDirectory)
        {
            var target = Path.Combine(targetDirectory, Path.GetFileName(source));
            if (Directory.Exists(source))
            {
                Directory.CreateDirectory(target);
                foreach (var file in Directory.GetFiles(source))
                {
                    var copy = Path.Combine(target, Path.GetFileName(file));
                    File.Copy(file, copy);
                    File.SetAttributes(copy, FileAttributes.Normal);
                }
            }
            else
            {
                File.Copy(source, target);
                File.SetAttributes(target, FileAttributes.Normal);
            }
            return target;
        }

        public static string ManifestOf(string directory) => Directory.GetFiles(directory, "*.manifest").Single();

        public static (int ExitCode, string Output) Run(string executable, params string[] arguments) => RunWithInput(executable, null, arguments);

        public static (int ExitCode, string Output) RunWithInput(string executable, string? input, params string[] arguments)
        {
            var start = new ProcessStartInfo(executable)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
            };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            if (input != null)
            {
                process.StandardInput.Write(input);
            }
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr.Result);
        }

        /// <summary>What redis-check-aof 7.0 says about each file it analysed: name, ok_up_to, and valid or not.</summary>
        public static CheckAofVerdict CheckAof(string path)
        {
            var (exitCode, output) = Run("redis-check-aof", path);
            var analyzed = Regex.Matches(output, @"AOF analyzed: filename=(?<file>[^,]+), size=(?<size>\d+), ok_up_to=(?<ok>\d+)")
                .Select(m => (File: Path.GetFileName(m.Groups["file"].Value), Size: long.Parse(m.Groups["size"].Value), OkUpTo: long.Parse(m.Groups["ok"].Value)))
                .ToList();
            return new CheckAofVerdict(exitCode == 0 && !output.Contains("is not valid"), analyzed, output);
        }

        public static async Task<(string Dbsize, string Digest)> KeyspaceAndDigestAsync(RedisServerProcess server)
        {
            await using var connection = await ConnectAsync(server);
            var info = (await connection.ExecuteAsync("INFO", "keyspace")).AsString() ?? "";
            var databases = Regex.Matches(info, @"db(\d+):keys=(\d+)").Select(m => $"{m.Groups[1].Value}={m.Groups[2].Value}").ToList();
            var digest = (await connection.ExecuteAsync("DEBUG", "DIGEST")).AsString() ?? "";
            return (databases.Count == 0 ? "empty" : string.Join(";", databases), digest);
        }

        public static Task<RedisConnection> ConnectAsync(RedisServerProcess server) =>
            RedisConnection.ConnectAsync(new RedisConnectionOptions(RedisEndpoint.Parse(server.Endpoint)));

        /// <summary>Starts a server that loads the multi-part AOF directory <paramref name="aofDirectory"/> (copied or in place).</summary>
        public static async Task<RedisServerProcess> StartOnAofDirectoryAsync(string aofDirectory, params string[] extraArguments)
        {
            var manifest = ManifestOf(aofDirectory);
            var options = new RedisServerOptions { Directory = Path.GetDirectoryName(aofDirectory) };
            options.Arguments.AddRange(new[]
            {
                "--appendonly", "yes", "--appenddirname", Path.GetFileName(aofDirectory),
                "--appendfilename", Path.GetFileName(manifest).Substring(0, Path.GetFileName(manifest).Length - ".manifest".Length),
            });
            options.Arguments.AddRange(extraArguments);
            return await RedisServerProcess.StartAsync(options);
        }
    }

    internal sealed record CheckAofVerdict(bool Valid, IReadOnlyList<(string File, long Size, long OkUpTo)> Analyzed, string Output);

    internal sealed class TempDirectory : IDisposable
    {
        public TempDirectory(string path) => Path = path;

        public string Path { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
