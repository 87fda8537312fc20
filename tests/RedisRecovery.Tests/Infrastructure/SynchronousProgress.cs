using System;

namespace RedisRecovery.Tests.Infrastructure
{
    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need every report, in order, before asserting.</summary>
    public sealed class SynchronousProgress<T> : IProgress<T>
    {
        private readonly Action<T> _report;

        public SynchronousProgress(Action<T> report) => _report = report;

        public void Report(T value) => _report(value);
    }
}
