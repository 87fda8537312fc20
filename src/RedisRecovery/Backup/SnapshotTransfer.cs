using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Rdb;

namespace RedisRecovery.Backup
{
    /// <summary>
    /// A snapshot the server has agreed to give: the handshake is done (so a method the server refuses fails before
    /// any file exists, and Auto can fall back), and the bytes wait to be copied into the backup file.
    /// </summary>
    internal abstract class SnapshotTransfer : IAsyncDisposable
    {
        /// <summary>Bytes per write to the backup file: large enough for disk throughput, small enough for flat memory.</summary>
        protected const int CopyBufferSize = 1024 * 1024;

        public abstract BackupMethod Method { get; }

        public virtual bool PointInTime => true;

        /// <summary>The snapshot's size when the server announced it; null for a stream of unknown length.</summary>
        public abstract long? Length { get; }

        /// <summary>The server version when the handshake learnt it; otherwise the RDB's own redis-ver is recorded.</summary>
        public string? ServerVersion { get; protected set; }

        /// <summary>Why this method was used, for the result and verbose output.</summary>
        public string Reason { get; set; } = string.Empty;

        /// <summary>Copies the whole snapshot into <paramref name="destination"/> and ends the transfer.</summary>
        public abstract Task CopyToAsync(Stream destination, CancellationToken cancellationToken);

        /// <summary>Checks what the full parse found against what the server said; throws when the file is not the server's snapshot.</summary>
        public virtual void CheckContent(RdbFileCheck check)
        {
        }

        public abstract ValueTask DisposeAsync();

        protected static async Task WriteAsync(Stream destination, byte[] buffer, int count, CancellationToken cancellationToken)
        {
            if (count > 0)
            {
                await destination.WriteAsync(buffer, 0, count, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
