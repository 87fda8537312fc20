using System;
using RedisRecovery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RedisRecovery.Tests.Storage
{
    /// <summary>
    /// A test class against the shared fauxqs server: each test gets its own <see cref="S3TestEnvironment"/>, and the
    /// server's log lines written during the test are appended to the test's output (where a failure is read).
    /// </summary>
    public abstract class S3ServerTest : IDisposable
    {
        private readonly int _logMark;

        protected S3ServerTest(S3ServerProcess server, ITestOutputHelper output)
        {
            Server = server;
            Output = output;
            _logMark = server.LogMark;
            S3 = new S3TestEnvironment(server);
        }

        protected S3ServerProcess Server { get; }

        protected ITestOutputHelper Output { get; }

        protected S3TestEnvironment S3 { get; }

        public virtual void Dispose() => Server.WriteLogSince(_logMark, Output);
    }
}
