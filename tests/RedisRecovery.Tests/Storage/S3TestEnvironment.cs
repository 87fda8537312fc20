using System;
using System.IO;
using System.Linq;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using RedisRecovery.Storage.S3;
using S3Location = RedisRecovery.Storage.S3.S3Location;
using RedisRecovery.Tests.Infrastructure;

namespace RedisRecovery.Tests.Storage
{
    /// <summary>Buckets, stores and a raw SDK client against the shared fauxqs server, one fresh bucket per test.</summary>
    public sealed class S3TestEnvironment
    {
        public const string AccessKeyId = "AKIDREDISRECOVERYTEST";
        public const string SecretAccessKey = "test-secret-that-must-never-appear";

        private readonly S3ServerProcess _server;

        public S3TestEnvironment(S3ServerProcess server)
        {
            _server = server;
            Raw = new AmazonS3Client(new BasicAWSCredentials(AccessKeyId, SecretAccessKey), new AmazonS3Config
            {
                ServiceURL = server.EndpointUrl.ToString(),
                AuthenticationRegion = "us-east-1",
                ForcePathStyle = true,
            });
        }

        /// <summary>An SDK client that bypasses our store, to set up and inspect the server's state.</summary>
        public AmazonS3Client Raw { get; }

        public static SecureString Secure(string text)
        {
            var secure = new SecureString();
            foreach (var c in text)
            {
                secure.AppendChar(c);
            }
            secure.MakeReadOnly();
            return secure;
        }

        public static byte[] RandomBytes(int length, int seed)
        {
            var bytes = new byte[length];
            new Random(seed).NextBytes(bytes);
            return bytes;
        }

        public async Task<string> NewBucketAsync()
        {
            var bucket = "rr-" + Guid.NewGuid().ToString("N").Substring(0, 20);
            await Raw.PutBucketAsync(bucket);
            return bucket;
        }

        public S3StoreOptions Options(Action<S3StoreOptions>? adjust = null)
        {
            var options = new S3StoreOptions
            {
                EndpointUrl = _server.EndpointUrl,
                ForcePathStyle = true,
                Region = "us-east-1",
                Credential = new BackupStoreCredential(AccessKeyId, Secure(SecretAccessKey)),
                PartSize = S3StoreOptions.MinimumPartSize,
                Parallelism = 3,
                MaxRetries = 2,
                RequestTimeout = TimeSpan.FromSeconds(30),
            };
            adjust?.Invoke(options);
            return options;
        }

        public S3BackupStore Store(string location, RecordingHandler? handler = null, Action<S3StoreOptions>? adjust = null) =>
            new(S3Location.Parse(location), Options(adjust), handler ?? new RecordingHandler());

        /// <summary>
        /// True when the bucket can be deleted: fauxqs refuses to delete a bucket with objects or with a multipart upload
        /// still open (it has no ListMultipartUploads), so this is how a test sees that nothing was left behind.
        /// </summary>
        public async Task<bool> BucketIsEmptyWithoutPendingUploadsAsync(string bucket)
        {
            try
            {
                await Raw.DeleteBucketAsync(bucket);
                return true;
            }
            catch (AmazonS3Exception e) when (e.ErrorCode == "BucketNotEmpty")
            {
                return false;
            }
        }
    }

    /// <summary>
    /// A read-once source that cannot seek nor tell its length (like a pipe), optionally failing after its bytes, like a
    /// disk error halfway through a backup file.
    /// </summary>
    public sealed class ForwardOnlyStream : Stream
    {
        private readonly byte[] _content;
        private readonly bool _failAtEnd;
        private int _position;

        public ForwardOnlyStream(byte[] content, bool failAtEnd = false)
        {
            _content = content;
            _failAtEnd = failAtEnd;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= _content.Length)
            {
                if (!_failAtEnd)
                {
                    return 0;
                }
                throw new IOException("simulated read failure after " + _position + " bytes");
            }
            var take = Math.Min(count, _content.Length - _position);
            Array.Copy(_content, _position, buffer, offset, take);
            _position += take;
            return take;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
