using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Rdb
{
    /// <summary>Decodes a serialized value (an entry's value bytes, or the body of a DUMP payload) into its elements.</summary>
    public static class RdbValueDecoder
    {
        public static ValueTask<RdbValue> DecodeAsync(byte typeId, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
        {
            var segment = MemoryMarshal.TryGetArray(value, out var array) ? array : new ArraySegment<byte>(value.ToArray());
            return DecodeAsync(typeId, new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false), "serialized value", cancellationToken);
        }

        /// <summary>Decodes a value read from <paramref name="value"/>, which must hold exactly one serialized value.</summary>
        public static async ValueTask<RdbValue> DecodeAsync(byte typeId, Stream value, string sourceName, CancellationToken cancellationToken = default)
        {
            using var input = new RdbInput(value, sourceName, 0, 16 * 1024);
            var walker = new RdbValueWalker(input, validate: true, blobLimit: int.MaxValue - 64);
            var (_, decoded) = await walker.WalkValueAsync(typeId, decode: true, cancellationToken).ConfigureAwait(false);
            if (await input.TryEnsureAsync(1, cancellationToken).ConfigureAwait(false) > 0)
            {
                throw input.Corrupt("bytes left after the end of the value", input.Position);
            }
            return decoded!;
        }
    }
}
