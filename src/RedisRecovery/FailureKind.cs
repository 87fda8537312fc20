namespace RedisRecovery
{
    /// <summary>
    /// What went wrong, in terms a caller can act on. The PowerShell layer maps each kind to an ErrorCategory,
    /// so scripts can tell bad input from a dead server from a damaged file.
    /// </summary>
    public enum FailureKind
    {
        InvalidArgument,
        NotFound,
        ConnectionFailed,
        AuthenticationFailed,
        SecurityError,
        Timeout,
        ServerError,
        CommandUnavailable,
        CorruptData,
        NotSupported,
        Conflict,
        IOError,
    }
}
