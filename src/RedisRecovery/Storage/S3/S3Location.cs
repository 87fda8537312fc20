using System;

namespace RedisRecovery.Storage.S3
{
    /// <summary>A bucket and a key prefix, as written s3://bucket/prefix. The prefix is empty or ends with '/'.</summary>
    public sealed class S3Location : IEquatable<S3Location>
    {
        public const string Scheme = "s3://";

        public S3Location(string bucket, string? prefix)
        {
            if (!IsValidBucketName(bucket))
            {
                throw new RedisRecoveryException("S3InvalidLocation", FailureKind.InvalidArgument,
                    $"'{bucket}' is not a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-').") { Target = bucket };
            }
            Bucket = bucket;
            var trimmed = (prefix ?? string.Empty).Trim('/');
            Prefix = trimmed.Length == 0 ? string.Empty : trimmed + "/";
        }

        public string Bucket { get; }

        /// <summary>Empty (the bucket's root) or a key prefix ending with '/'.</summary>
        public string Prefix { get; }

        /// <summary>True for text that names an S3 location (starts with s3://), so callers can tell it from a path.</summary>
        public static bool IsS3Uri(string? text) =>
            text != null && text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

        public static S3Location Parse(string text)
        {
            if (!IsS3Uri(text))
            {
                throw new RedisRecoveryException("S3InvalidLocation", FailureKind.InvalidArgument,
                    $"'{text}' is not an S3 location; expected s3://bucket or s3://bucket/prefix.") { Target = text };
            }
            var rest = text.Substring(Scheme.Length);
            var slash = rest.IndexOf('/');
            return slash < 0 ? new S3Location(rest, null) : new S3Location(rest.Substring(0, slash), rest.Substring(slash + 1));
        }

        /// <summary>Splits s3://bucket/prefix/name into the location holding the object and the object's name.</summary>
        public static S3Location ParseObject(string uri, out string objectName)
        {
            var location = Parse(uri);
            var slash = uri.LastIndexOf('/');
            objectName = uri.Substring(slash + 1);
            if (slash < Scheme.Length || objectName.Length == 0)
            {
                throw new RedisRecoveryException("S3InvalidLocation", FailureKind.InvalidArgument,
                    $"'{uri}' does not name an object; expected s3://bucket/prefix/<file>.") { Target = uri };
            }
            return new S3Location(location.Bucket, uri.Substring(Scheme.Length + location.Bucket.Length, slash - Scheme.Length - location.Bucket.Length));
        }

        /// <summary>The full key of an object named <paramref name="name"/> in this location.</summary>
        public string KeyFor(string name)
        {
            if (string.IsNullOrEmpty(name) || name.IndexOf('/') >= 0 || name == "." || name == "..")
            {
                throw new RedisRecoveryException("S3InvalidObjectName", FailureKind.InvalidArgument,
                    $"'{name}' is not a valid object name in a backup store (a plain file name without '/').") { Target = name };
            }
            return Prefix + name;
        }

        public string UriFor(string name) => Scheme + Bucket + "/" + KeyFor(name);

        public override string ToString() => Scheme + Bucket + (Prefix.Length == 0 ? string.Empty : "/" + Prefix.TrimEnd('/'));

        public bool Equals(S3Location? other) => other != null && other.Bucket == Bucket && other.Prefix == Prefix;

        public override bool Equals(object? obj) => Equals(obj as S3Location);

        public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

        private static bool IsValidBucketName(string bucket)
        {
            if (bucket.Length < 3 || bucket.Length > 63)
            {
                return false;
            }
            foreach (var c in bucket)
            {
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
                {
                    return false;
                }
            }
            return char.IsLetterOrDigit(bucket[0]) && char.IsLetterOrDigit(bucket[bucket.Length - 1]);
        }
    }
}
