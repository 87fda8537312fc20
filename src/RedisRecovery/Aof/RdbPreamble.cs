using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;

namespace RedisRecovery.Aof
{
    /// <summary>The one place the AOF engine meets the RDB reader: finding where an RDB preamble ends.</summary>
    internal static class RdbPreamble
    {
        /// <summary>
        /// Reads the RDB at the start of <paramref name="stream"/> (values are walked and checked, not kept) and
        /// returns the offset just after its EOF opcode and checksum, where the RESP tail begins, and its key count.
        /// Throws <see cref="CorruptDataException"/> for a damaged RDB, <see cref="RdbFormatNotSupportedException"/>
        /// for one newer than the reader knows.
        /// </summary>
        public static async Task<(long EndOffset, long Keys)> SkipAsync(Stream stream, string file, CancellationToken cancellationToken)
        {
            var options = new RdbReaderOptions { SourceName = file, LeaveOpen = true, BaseOffset = 0, CaptureValues = false };
            using var reader = new RdbReader(stream, options);
            long keys = 0;
            await foreach (var _ in reader.ReadEntriesAsync(cancellationToken).ConfigureAwait(false))
            {
                keys++;
            }
            return (reader.EndOffset!.Value, keys);
        }
    }
}
