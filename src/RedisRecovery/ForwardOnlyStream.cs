using System;
using System.IO;

namespace RedisRecovery
{
    /// <summary>
    /// A stream that only moves forward (network, pipe, hashing, encryption layers): no length, no position, no seek.
    /// The engine's layered streams derive from it so each states only what it reads or writes.
    /// </summary>
    public abstract class ForwardOnlyStream : Stream
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
