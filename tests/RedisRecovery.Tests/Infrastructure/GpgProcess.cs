using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace RedisRecovery.Tests.Infrastructure
{
    /// <summary>
    /// The real gpg, with its own temporary GNUPGHOME (no agent state or keys of the machine involved) and the
    /// passphrase passed through a file, never on the command line.
    /// </summary>
    public sealed class GpgProcess : IDisposable
    {
        public GpgProcess()
        {
            Home = RedisServerProcess.CreateTempDirectory();
            if (!OperatingSystem.IsWindows())
            {
                // gpg warns about (and some versions refuse) a home directory others can read.
                File.SetUnixFileMode(Home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        public string Home { get; }

        /// <summary>Runs gpg in batch mode with the passphrase; returns exit code and stderr.</summary>
        public async Task<(int ExitCode, string Errors)> RunAsync(string passphrase, params string[] arguments)
        {
            var passphraseFile = Path.Combine(Home, "passphrase-" + Guid.NewGuid().ToString("N"));
            await File.WriteAllTextAsync(passphraseFile, passphrase);
            try
            {
                var start = new ProcessStartInfo("gpg")
                {
                    UseShellExecute = false,
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                };
                start.Environment["GNUPGHOME"] = Home;
                foreach (var argument in new[] { "--batch", "--yes", "--no-tty", "--pinentry-mode", "loopback", "--passphrase-file", passphraseFile })
                {
                    start.ArgumentList.Add(argument);
                }
                foreach (var argument in arguments)
                {
                    start.ArgumentList.Add(argument);
                }
                using var process = Process.Start(start) ?? throw new InvalidOperationException("gpg did not start");
                var errors = process.StandardError.ReadToEndAsync();
                var output = process.StandardOutput.ReadToEndAsync();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                return (process.ExitCode, await errors + await output);
            }
            finally
            {
                File.Delete(passphraseFile);
            }
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Home, recursive: true);
            }
            catch (IOException)
            {
                // gpg-agent may still hold a socket there for a moment
            }
        }
    }
}
