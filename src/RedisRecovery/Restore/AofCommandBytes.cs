using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Aof;

namespace RedisRecovery.Restore
{
    /// <summary>
    /// Reads the stored RESP bytes of AOF commands (which the reader only locates), opening each file once for
    /// reading only: the source AOF is never modified.
    /// </summary>
    internal sealed class AofCommandBytes : IDisposable
    {
        private readonly IReadOnlyList<AofFileCheck> _files;
        private readonly Dictionary<int, FileStream> _open = new();

        public AofCommandBytes(IReadOnlyList<AofFileCheck> files) => _files = files;

        public async Task<ReadOnlyMemory<byte>> ReadAsync(AofCommand command, CancellationToken cancellationToken)
        {
            if (command.Length > int.MaxValue)
            {
                throw new RedisRecoveryException("RestoreCommandTooLarge", FailureKind.NotSupported,
                    $"{command.File}: the {command.Name} command at byte {command.Offset} is {command.Length} bytes, too large to replay.") { Target = command.File };
            }
            if (!_open.TryGetValue(command.PartIndex, out var stream))
            {
                stream = new FileStream(_files[command.PartIndex].FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
                _open[command.PartIndex] = stream;
            }
            if (stream.Position != command.Offset)
            {
                stream.Position = command.Offset;
            }
            var buffer = new byte[command.Length];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer, read, buffer.Length - read, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new CorruptDataException(command.File, command.Offset + read, "the file changed while it was replayed: the command ends early");
                }
                read += n;
            }
            return buffer;
        }

        /// <summary>The database number of a SELECT command (its last bulk argument).</summary>
        public async Task<int> ReadDatabaseAsync(AofCommand command, CancellationToken cancellationToken)
        {
            var bytes = await ReadAsync(command, cancellationToken).ConfigureAwait(false);
            var text = Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\r', '\n');
            var lastLine = text.Substring(text.LastIndexOf('\n') + 1);
            if (!int.TryParse(lastLine, NumberStyles.None, CultureInfo.InvariantCulture, out var database))
            {
                throw new CorruptDataException(command.File, command.Offset, "SELECT with a database number");
            }
            return database;
        }

        public void Dispose()
        {
            foreach (var stream in _open.Values)
            {
                stream.Dispose();
            }
        }
    }
}
