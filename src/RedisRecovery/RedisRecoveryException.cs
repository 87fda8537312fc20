using System;

namespace RedisRecovery
{
    /// <summary>
    /// The one base for every failure the engine reports on purpose. <see cref="ErrorId"/> is stable (scripts and
    /// tests match on it); the message is for people and never contains secrets or value bytes.
    /// </summary>
    public class RedisRecoveryException : Exception
    {
        public RedisRecoveryException(string errorId, FailureKind kind, string message, Exception? innerException = null)
            : base(message, innerException)
        {
            ErrorId = errorId;
            Kind = kind;
        }

        public string ErrorId { get; }

        public FailureKind Kind { get; }

        /// <summary>What the failure concerns (a file path, an endpoint, a key name), for the ErrorRecord target.</summary>
        public object? Target { get; init; }
    }

    /// <summary>
    /// Damaged or unexpected bytes in a persistence file or stream: names the source, the byte offset, the last key
    /// read successfully and what was expected there.
    /// </summary>
    public sealed class CorruptDataException : RedisRecoveryException
    {
        public CorruptDataException(string source, long offset, string expectation, string? lastGoodKey = null, Exception? innerException = null)
            : base("CorruptData", FailureKind.CorruptData, Describe(source, offset, expectation, lastGoodKey), innerException)
        {
            Source = source;
            Offset = offset;
            Expectation = expectation;
            LastGoodKey = lastGoodKey;
            Target = source;
        }

        public new string Source { get; }

        public long Offset { get; }

        public string Expectation { get; }

        public string? LastGoodKey { get; }

        private static string Describe(string source, long offset, string expectation, string? lastGoodKey) =>
            lastGoodKey is null
                ? $"{source}: {expectation} at byte offset {offset}."
                : $"{source}: {expectation} at byte offset {offset} (last good key: '{lastGoodKey}').";
    }
}
