using RedisRecovery.Resp;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// The logical method (SCAN + DUMP + PTTL of every key, assembled into an RDB) needs the RDB writer and DUMP
    /// payload conversion of the RDB engine, which this build does not have yet.
    /// </summary>
    internal static class LogicalTransfer
    {
        public static SnapshotTransfer Start(RedisConnectionOptions options, int? maxOpsPerSecond, IOperationLog log) =>
            throw new RedisRecoveryException(SnapshotErrorIds.LogicalUnavailable, FailureKind.NotSupported,
                $"A logical backup of {options.Endpoint.Address} (SCAN + DUMP) needs the RDB writer, which this version of RedisRecovery does not include yet.")
            {
                Target = options.Endpoint.ToString(),
            };
    }
}
