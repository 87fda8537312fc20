using System;

namespace RedisRecovery
{
    /// <summary>One progress report of a long engine operation; the cmdlets turn it into a ProgressRecord.</summary>
    public sealed class OperationProgress
    {
        public OperationProgress(string activity, string status, long completed, long? total)
        {
            Activity = activity;
            Status = status;
            Completed = completed;
            Total = total;
        }

        public string Activity { get; }

        public string Status { get; }

        public long Completed { get; }

        /// <summary>Null when the total is unknown (a stream of unknown length).</summary>
        public long? Total { get; }

        /// <summary>-1 when the total is unknown, as ProgressRecord expects.</summary>
        public int PercentComplete =>
            Total is long total && total > 0 ? (int)Math.Min(100, Completed * 100 / total) : -1;
    }

    /// <summary>
    /// Verbose and warning text from the engine. The engine never talks to PowerShell itself: the cmdlet layer
    /// supplies an implementation that queues the text for the pipeline thread.
    /// </summary>
    public interface IOperationLog
    {
        void Verbose(string message);

        void Warning(string message);
    }

    public sealed class NullOperationLog : IOperationLog
    {
        public static readonly NullOperationLog Instance = new();

        private NullOperationLog()
        {
        }

        public void Verbose(string message)
        {
        }

        public void Warning(string message)
        {
        }
    }
}
