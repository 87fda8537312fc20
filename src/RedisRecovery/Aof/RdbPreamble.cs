using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Aof
{
    /// <summary>The one place the AOF engine meets the RDB reader: finding where an RDB preamble ends.</summary>
    internal static class RdbPreamble
    {
        /// <summary>
        /// Reads the RDB at the start of <paramref name="stream"/> and returns the offset just after its EOF opcode
        /// and checksum, where the RESP tail begins. Throws <see cref="CorruptDataException"/> for a damaged RDB.
        /// </summary>
        public static Task<long> SkipAsync(Stream stream, string file, CancellationToken cancellationToken) =>
            throw new RedisRecoveryException("RdbPreambleUnsupported", FailureKind.NotSupported, $"{file}: reading an RDB preamble needs the RDB reader.") { Target = file };
    }
}
