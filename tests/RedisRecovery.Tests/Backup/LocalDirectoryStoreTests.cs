using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisRecovery.Storage;

namespace RedisRecovery.Tests.Backup
{
    public sealed class LocalDirectoryStoreTests
    {
        [Fact]
        public async Task Put_StoresTheBytes_ThenGetListAndReadSeeThem()
        {
            using var directory = new BackupTestDirectory();
            var content = Encoding.ASCII.GetBytes("REDIS0011 hello");

            var stored = await directory.Store.PutAsync("a.rdb", new MemoryStream(content), null, CancellationToken.None);

            Assert.Equal("a.rdb", stored.Name);
            Assert.Equal(content.Length, stored.Size);
            Assert.Equal(directory.FullPath("a.rdb"), stored.FullLocation);
            Assert.Equal(content.Length, (await directory.Store.GetAsync("a.rdb", CancellationToken.None))!.Size);
            Assert.Null(await directory.Store.GetAsync("b.rdb", CancellationToken.None));
            var listed = Assert.Single(await ListAsync(directory.Store));
            Assert.Equal("a.rdb", listed.Name);
            using var read = await directory.Store.OpenReadAsync("a.rdb", ReadIntegrity.StoreChecks, CancellationToken.None);
            var copy = new MemoryStream();
            await read.CopyToAsync(copy);
            Assert.Equal(content, copy.ToArray());
        }

        [Fact]
        public async Task Put_OverAnExistingObject_ReplacesIt()
        {
            using var directory = new BackupTestDirectory();
            await directory.Store.PutAsync("a.json", new MemoryStream(new byte[] { 1 }), null, CancellationToken.None);
            await directory.Store.PutAsync("a.json", new MemoryStream(new byte[] { 2, 3 }), null, CancellationToken.None);
            Assert.Equal(new byte[] { 2, 3 }, File.ReadAllBytes(directory.FullPath("a.json")));
            Assert.Equal(new[] { "a.json" }, directory.FileNames());
        }

        [Fact]
        public async Task Put_FromAFailingSource_LeavesNoObjectAndNoTemporaryFile_AndTheOldObjectIntact()
        {
            using var directory = new BackupTestDirectory();
            await directory.Store.PutAsync("a.rdb", new MemoryStream(new byte[] { 7 }), null, CancellationToken.None);

            await Assert.ThrowsAsync<IOException>(() => directory.Store.PutAsync("a.rdb", new FailingSource(100_000), null, CancellationToken.None));
            await Assert.ThrowsAsync<IOException>(() => directory.Store.PutAsync("b.rdb", new FailingSource(100_000), null, CancellationToken.None));

            Assert.Equal(new[] { "a.rdb" }, directory.FileNames());
            Assert.Equal(new byte[] { 7 }, File.ReadAllBytes(directory.FullPath("a.rdb")));
        }

        [Fact]
        public async Task Put_Cancelled_LeavesNothingBehind()
        {
            using var directory = new BackupTestDirectory();
            using var cancellation = new CancellationTokenSource();
            var progress = new CancelAfterFirstReport(cancellation);

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                directory.Store.PutAsync("a.rdb", new MemoryStream(new byte[1 << 20]), progress, cancellation.Token));

            Assert.Empty(directory.FileNames());
        }

        [Theory]
        [InlineData("../escape.rdb")]
        [InlineData("sub/dir.rdb")]
        [InlineData("sub\\dir.rdb")]
        [InlineData("..")]
        [InlineData("")]
        [InlineData(".a.rdb.0123.partial")]
        public async Task Names_ThatWouldLeaveTheDirectoryOrLookStaged_AreRejected(string name)
        {
            using var directory = new BackupTestDirectory();
            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => directory.Store.PutAsync(name, new MemoryStream(new byte[1]), null, CancellationToken.None));
            Assert.Equal("InvalidObjectName", error.ErrorId);
            await Assert.ThrowsAsync<RedisRecoveryException>(() => directory.Store.DeleteAsync(name, CancellationToken.None));
            Assert.Empty(directory.FileNames());
        }

        [Fact]
        public async Task Delete_OfAnAbsentObject_IsNotAnError_AndOpenReadOfOneIsNotFound()
        {
            using var directory = new BackupTestDirectory();
            await directory.Store.DeleteAsync("absent.rdb", CancellationToken.None);
            var error = await Assert.ThrowsAsync<RedisRecoveryException>(() => directory.Store.OpenReadAsync("absent.rdb", ReadIntegrity.StoreChecks, CancellationToken.None));
            Assert.Equal("BackupObjectNotFound", error.ErrorId);
            Assert.Equal(FailureKind.NotFound, error.Kind);
        }

        [Fact]
        public void DirectoryFlush_ReachesTheCLibrary_OnThisPlatform()
        {
            using var directory = new BackupTestDirectory();
            // Where the directory fsync silently did nothing, renames into place would not survive a power loss.
            Assert.Equal(!OperatingSystem.IsWindows(), DirectoryDurability.TryFlush(directory.Path));
        }

        private static async Task<StoredObject[]> ListAsync(IBackupStore store)
        {
            var objects = new System.Collections.Generic.List<StoredObject>();
            await foreach (var stored in store.ListAsync(CancellationToken.None))
            {
                objects.Add(stored);
            }
            return objects.ToArray();
        }

        /// <summary>A source that delivers some bytes, then fails like a dropped connection.</summary>
        private sealed class FailingSource : Stream
        {
            private long _remaining;

            public FailingSource(long bytesBeforeFailure) => _remaining = bytesBeforeFailure;

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (_remaining == 0)
                {
                    throw new IOException("connection reset by peer");
                }
                var delivered = (int)Math.Min(count, _remaining);
                Array.Fill(buffer, (byte)'x', offset, delivered);
                _remaining -= delivered;
                return delivered;
            }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }

        private sealed class CancelAfterFirstReport : IProgress<long>
        {
            private readonly CancellationTokenSource _cancellation;

            public CancelAfterFirstReport(CancellationTokenSource cancellation) => _cancellation = cancellation;

            public void Report(long value) => _cancellation.Cancel();
        }
    }
}
