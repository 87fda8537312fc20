namespace RedisRecovery.Rdb
{
    /// <summary>
    /// Well-formed input this engine does not understand: a future RDB version, an unknown value type, a pre-release
    /// module format. Distinct from corruption so that a caller can tell "too new for me" from "damaged".
    /// </summary>
    public sealed class RdbFormatNotSupportedException : RedisRecoveryException
    {
        public RdbFormatNotSupportedException(string source, long offset, string what)
            : base("RdbFormatNotSupported", FailureKind.NotSupported, $"{source}: {what} (at byte offset {offset}).")
        {
            Source = source;
            Offset = offset;
            Target = source;
        }

        public new string Source { get; }

        public long Offset { get; }
    }
}
