using System;

namespace RedisRecovery.Rdb
{
    public sealed class RdbReaderOptions
    {
        /// <summary>The name used in error messages (a path, an object key, an endpoint).</summary>
        public string SourceName { get; init; } = "RDB stream";

        /// <summary>Leave the stream open when the reader is disposed.</summary>
        public bool LeaveOpen { get; init; }

        /// <summary>Offset reported for the first byte of the RDB; null means the stream's position when seekable, else 0.</summary>
        public long? BaseOffset { get; init; }

        /// <summary>Keep each entry's serialized value (needed for RESTORE, writing, decoding). A check that only
        /// counts turns this off and reads at full speed.</summary>
        public bool CaptureValues { get; init; } = true;

        /// <summary>Values up to this size are held in memory (<see cref="RdbEntry.Value"/>); larger ones must be
        /// streamed with <see cref="RdbEntry.CopyValueToAsync"/> before the next entry is read.</summary>
        public int LargeValueThreshold { get; init; } = 8 * 1024 * 1024;

        /// <summary>Check the integrity of compact encodings (ziplist, listpack, intset, zipmap, LZF) as Redis does
        /// when loading. Blobs above <see cref="MaxValidatedBlobSize"/> are passed through unchecked.</summary>
        public bool ValidateEncodings { get; init; } = true;

        public int MaxValidatedBlobSize { get; init; } = 16 * 1024 * 1024;

        /// <summary>Fail on a CRC64 mismatch (the result is still reported in <see cref="RdbReader.ChecksumStatus"/>).</summary>
        public bool VerifyChecksum { get; init; } = true;

        public int BufferSize { get; init; } = 128 * 1024;

        internal void Validate()
        {
            if (LargeValueThreshold < 1024 || BufferSize < 64 || MaxValidatedBlobSize < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(LargeValueThreshold), "LargeValueThreshold must be at least 1024 bytes and BufferSize at least 64.");
            }
        }
    }
}
