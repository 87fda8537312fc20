using System;
using System.Runtime.InteropServices;
using System.Security;

namespace RedisRecovery.Storage.S3
{
    public enum S3ServerSideEncryption
    {
        /// <summary>Whatever the bucket's default encryption is.</summary>
        BucketDefault,

        /// <summary>SSE-S3 (x-amz-server-side-encryption: AES256).</summary>
        Aes256,

        /// <summary>SSE-KMS (x-amz-server-side-encryption: aws:kms), with the key in <see cref="S3StoreOptions.KmsKeyId"/> or the account default.</summary>
        AwsKms,
    }

    /// <summary>
    /// An access key and its secret. The secret stays in a SecureString and is read only when a request is signed;
    /// <see cref="ToString"/> shows the key id alone.
    /// </summary>
    public sealed class BackupStoreCredential
    {
        private readonly SecureString _secretAccessKey;
        private readonly SecureString? _sessionToken;

        public BackupStoreCredential(string accessKeyId, SecureString secretAccessKey, SecureString? sessionToken = null)
        {
            if (string.IsNullOrWhiteSpace(accessKeyId))
            {
                throw new RedisRecoveryException("S3InvalidCredential", FailureKind.InvalidArgument, "The access key id is empty.");
            }
            AccessKeyId = accessKeyId;
            _secretAccessKey = secretAccessKey.Copy();
            _secretAccessKey.MakeReadOnly();
            _sessionToken = sessionToken?.Copy();
            _sessionToken?.MakeReadOnly();
        }

        public string AccessKeyId { get; }

        public bool HasSessionToken => _sessionToken != null;

        public override string ToString() => $"{AccessKeyId} (secret hidden)";

        internal string RevealSecretAccessKey() => Reveal(_secretAccessKey);

        internal string? RevealSessionToken() => _sessionToken == null ? null : Reveal(_sessionToken);

        private static string Reveal(SecureString secret)
        {
            var pointer = Marshal.SecureStringToGlobalAllocUnicode(secret);
            try
            {
                return Marshal.PtrToStringUni(pointer, secret.Length);
            }
            finally
            {
                Marshal.ZeroFreeGlobalAllocUnicode(pointer);
            }
        }
    }

    /// <summary>How to reach and write an S3 (or S3-compatible) store. Defaults suit AWS S3.</summary>
    public sealed class S3StoreOptions
    {
        public const long MinimumPartSize = 5L * 1024 * 1024;
        public const long MaximumPartSize = 1L * 1024 * 1024 * 1024;

        /// <summary>AWS region (e.g. eu-west-1); default: the SDK's (AWS_REGION, profile), else us-east-1.</summary>
        public string? Region { get; set; }

        /// <summary>Endpoint of an S3-compatible server (MinIO, Ceph...); null for AWS.</summary>
        public Uri? EndpointUrl { get; set; }

        /// <summary>bucket in the path (http://host/bucket/key) instead of the host name; most S3-compatible servers need it.</summary>
        public bool ForcePathStyle { get; set; }

        /// <summary>A named profile of the shared AWS config/credentials files.</summary>
        public string? ProfileName { get; set; }

        /// <summary>Explicit keys; when null (and no profile) the SDK's default chain is used (env, profile, instance role).</summary>
        public BackupStoreCredential? Credential { get; set; }

        public S3ServerSideEncryption ServerSideEncryption { get; set; }

        /// <summary>KMS key id or ARN for <see cref="S3ServerSideEncryption.AwsKms"/>.</summary>
        public string? KmsKeyId { get; set; }

        /// <summary>STANDARD, STANDARD_IA, GLACIER_IR, ...; null for the bucket default.</summary>
        public string? StorageClass { get; set; }

        /// <summary>Bytes per multipart part; smaller objects go up in one PUT. 5 MiB to 1 GiB (parts are buffered in memory).</summary>
        public long PartSize { get; set; } = 16L * 1024 * 1024;

        /// <summary>Parts uploaded at once; memory used by an upload is about PartSize × Parallelism.</summary>
        public int Parallelism { get; set; } = 4;

        /// <summary>Keys per ListObjectsV2 page (1-1000).</summary>
        public int ListPageSize { get; set; } = 1000;

        /// <summary>
        /// Send x-amz-checksum-sha256 with every PUT and part, so the server rejects damaged bytes and reports a checksum
        /// to verify against. Turn off for S3-compatible servers that refuse it; the size and our own SHA-256 recorded in the
        /// object's metadata are then what is verified.
        /// </summary>
        public bool UseServerChecksums { get; set; } = true;

        /// <summary>Retries of one request on transient failures (throttling, 5xx, broken connections), with exponential backoff.</summary>
        public int MaxRetries { get; set; } = 5;

        /// <summary>How long one request may take before it is retried.</summary>
        public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(5);

        internal void Validate()
        {
            if (PartSize < MinimumPartSize || PartSize > MaximumPartSize)
            {
                throw Misuse($"PartSize must be between {MinimumPartSize} and {MaximumPartSize} bytes (it is {PartSize}).");
            }
            if (Parallelism < 1 || Parallelism > 64)
            {
                throw Misuse($"Parallelism must be between 1 and 64 (it is {Parallelism}).");
            }
            if (ListPageSize < 1 || ListPageSize > 1000)
            {
                throw Misuse($"ListPageSize must be between 1 and 1000 (it is {ListPageSize}).");
            }
            if (MaxRetries < 0 || MaxRetries > 20)
            {
                throw Misuse($"MaxRetries must be between 0 and 20 (it is {MaxRetries}).");
            }
            if (EndpointUrl != null && (!EndpointUrl.IsAbsoluteUri || (EndpointUrl.Scheme != Uri.UriSchemeHttp && EndpointUrl.Scheme != Uri.UriSchemeHttps)))
            {
                throw Misuse($"EndpointUrl must be an absolute http:// or https:// address (it is '{EndpointUrl}').");
            }
            if (KmsKeyId != null && ServerSideEncryption != S3ServerSideEncryption.AwsKms)
            {
                throw Misuse("KmsKeyId needs ServerSideEncryption AwsKms.");
            }
            if (ProfileName != null && Credential != null)
            {
                throw Misuse("Give either a profile name or a credential, not both.");
            }
        }

        private static RedisRecoveryException Misuse(string message) =>
            new("S3InvalidOptions", FailureKind.InvalidArgument, message);
    }
}
