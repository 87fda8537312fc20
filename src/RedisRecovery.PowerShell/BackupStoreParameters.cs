using System;
using System.Management.Automation;
using System.Security;
using RedisRecovery.Storage.S3;

namespace RedisRecovery.PowerShell
{
    /// <summary>
    /// How to reach an S3 (or S3-compatible) backup store: the parameters every cmdlet that takes a backup location
    /// adds as dynamic parameters, so they are declared once. Without any of them the SDK's default credential chain
    /// (environment, shared profile, instance or container role) and region apply. They are ignored for local paths.
    /// Region and EndpointUrl bind from piped backups, which remember where they are.
    /// </summary>
    public sealed class BackupStoreParameters
    {
        public const string Aes256 = "AES256";
        public const string AwsKms = "aws:kms";

        /// <summary>No validation attribute: backups from a local directory pipe in a null Region, which means the default.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? Region { get; set; }

        /// <summary>An S3-compatible server (MinIO, Ceph...); addressed path-style (http://host/bucket/key).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public Uri? EndpointUrl { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ProfileName { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? AccessKey { get; set; }

        [Parameter]
        public SecureString? SecretKey { get; set; }

        /// <summary>For temporary credentials (with -AccessKey/-SecretKey or -AwsCredential).</summary>
        [Parameter]
        public SecureString? SessionToken { get; set; }

        /// <summary>The access key id as user name and the secret access key as password; named apart from any Redis -Credential.</summary>
        [Parameter]
        public PSCredential? AwsCredential { get; set; }

        [Parameter]
        [ValidateSet(Aes256, AwsKms)]
        public string? ServerSideEncryption { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KmsKeyId { get; set; }

        /// <summary>STANDARD, STANDARD_IA, GLACIER_IR...; the bucket's default when omitted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? StorageClass { get; set; }

        internal S3StoreOptions ToOptions() => new()
        {
            Region = string.IsNullOrWhiteSpace(Region) ? null : Region,
            EndpointUrl = EndpointUrl,
            ForcePathStyle = EndpointUrl != null,
            ProfileName = ProfileName,
            Credential = Credential(),
            ServerSideEncryption = ServerSideEncryption switch
            {
                Aes256 => S3ServerSideEncryption.Aes256,
                AwsKms => S3ServerSideEncryption.AwsKms,
                _ => S3ServerSideEncryption.BucketDefault,
            },
            KmsKeyId = KmsKeyId,
            StorageClass = StorageClass,
        };

        private BackupStoreCredential? Credential()
        {
            if (AwsCredential != null && (AccessKey != null || SecretKey != null))
            {
                throw Misuse("Give either -AwsCredential or -AccessKey with -SecretKey, not both.");
            }
            if ((AccessKey == null) != (SecretKey == null))
            {
                throw Misuse("-AccessKey and -SecretKey go together.");
            }
            if (SessionToken != null && AccessKey == null && AwsCredential == null)
            {
                throw Misuse("-SessionToken needs -AccessKey with -SecretKey, or -AwsCredential.");
            }
            return AwsCredential != null ? new BackupStoreCredential(AwsCredential.UserName, AwsCredential.Password, SessionToken)
                : AccessKey != null ? new BackupStoreCredential(AccessKey, SecretKey!, SessionToken)
                : null;
        }

        private static RedisRecoveryException Misuse(string message) => new("S3InvalidOptions", FailureKind.InvalidArgument, message);
    }
}
