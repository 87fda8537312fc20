using System;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace RedisRecovery.Tests.Infrastructure
{
    /// <summary>
    /// A throwaway PKI made with openssl: a CA, a server certificate for 127.0.0.1/localhost signed by it, a client
    /// certificate signed by it, and an unrelated CA (to prove untrusted chains are refused). Made once per test run.
    /// </summary>
    public sealed class TestCertificates
    {
        private static readonly Lazy<TestCertificates> Shared = new(() => new TestCertificates(), LazyThreadSafetyMode.ExecutionAndPublication);

        private TestCertificates()
        {
            Directory = Path.Combine(Path.GetTempPath(), "redisrecovery-tests", "pki-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(Directory);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => System.IO.Directory.Delete(Directory, recursive: true);
            MakeCa("ca");
            MakeCa("other-ca");
            MakeSigned("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost");
            MakeSigned("wrong-name", "ca", "subjectAltName=DNS:redis.example.invalid");
            MakeSigned("client", "ca", "extendedKeyUsage=clientAuth");
            Openssl("pkcs12", "-export", "-in", "client.crt", "-inkey", "client.key", "-out", "client.pfx", "-passout", "pass:" + ClientPfxPassword);
        }

        public const string ClientPfxPassword = "pfx-pass";

        public static TestCertificates Instance => Shared.Value;

        public string Directory { get; }

        public string CaCertificate => File("ca.crt");

        public string OtherCaCertificate => File("other-ca.crt");

        public string ServerCertificate => File("server.crt");

        public string ServerKey => File("server.key");

        public string WrongNameCertificate => File("wrong-name.crt");

        public string WrongNameKey => File("wrong-name.key");

        public string ClientCertificate => File("client.crt");

        public string ClientKey => File("client.key");

        public string ClientPfx => File("client.pfx");

        private string File(string name) => Path.Combine(Directory, name);

        private void MakeCa(string name) =>
            Openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", $"/CN=RedisRecovery test {name}",
                "-keyout", name + ".key", "-out", name + ".crt", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");

        private void MakeSigned(string name, string ca, string extension)
        {
            Openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", $"/CN=RedisRecovery test {name}", "-keyout", name + ".key", "-out", name + ".csr");
            System.IO.File.WriteAllText(File(name + ".ext"), extension + "\n");
            Openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial", "-days", "2",
                "-out", name + ".crt", "-extfile", name + ".ext");
        }

        private void Openssl(params string[] arguments)
        {
            var start = new ProcessStartInfo("openssl")
            {
                WorkingDirectory = Directory,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"openssl {string.Join(" ", arguments)} failed: {errors.Result}");
            }
        }
    }
}
