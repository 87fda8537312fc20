using System;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;

namespace RedisRecovery.Storage.S3
{
    /// <summary>
    /// Turns SDK failures into RedisRecoveryExceptions with stable ErrorIds. Messages name the bucket, key and server
    /// answer, never a credential.
    /// </summary>
    internal static class S3Errors
    {
        public const string BucketNotFound = "S3BucketNotFound";
        public const string ObjectNotFound = "S3ObjectNotFound";
        public const string AccessDenied = "S3AccessDenied";
        public const string AuthenticationFailed = "S3AuthenticationFailed";
        public const string WrongRegion = "S3WrongRegion";
        public const string ChecksumMismatch = "S3ChecksumMismatch";
        public const string SizeMismatch = "S3SizeMismatch";
        public const string ConnectionFailed = "S3ConnectionFailed";
        public const string RequestFailed = "S3RequestFailed";
        public const string ObjectTooLarge = "S3ObjectTooLarge";
        public const string AbortFailed = "S3AbortFailed";
        public const string ObjectChanged = "S3ObjectChanged";

        /// <summary>Runs one SDK call, translating its failures; cancellation passes through untouched.</summary>
        public static async Task<T> GuardAsync<T>(Func<Task<T>> call, string target, string endpoint)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not RedisRecoveryException)
            {
                throw Translate(e, target, endpoint);
            }
        }

        public static RedisRecoveryException Translate(Exception exception, string target, string endpoint)
        {
            switch (exception)
            {
                case AmazonS3Exception s3:
                    return FromService(s3, s3.ErrorCode, s3.StatusCode, target, endpoint);
                case AmazonServiceException service:
                    return FromService(service, service.ErrorCode, service.StatusCode, target, endpoint);
                case HttpRequestException or WebException:
                    return Error(ConnectionFailed, FailureKind.ConnectionFailed,
                        $"Could not reach {endpoint} for {target}: {exception.Message}", target, exception);
                case System.IO.IOException:
                    return Error(ConnectionFailed, FailureKind.ConnectionFailed,
                        $"The connection to {endpoint} broke while receiving {target}: {exception.Message}", target, exception);
                case AmazonClientException client when client.Message.IndexOf("credential", StringComparison.OrdinalIgnoreCase) >= 0:
                    return Error(AuthenticationFailed, FailureKind.AuthenticationFailed,
                        $"No AWS credentials for {target}: {client.Message} Give a profile name or an access key, or set up the default credential chain.",
                        target, exception);
                case AmazonClientException client when client.InnerException is HttpRequestException or WebException or System.IO.IOException:
                    return Error(ConnectionFailed, FailureKind.ConnectionFailed,
                        $"Could not reach {endpoint} for {target}: {client.InnerException!.Message}", target, exception);
                default:
                    return Error(RequestFailed, FailureKind.ServerError, $"S3 request for {target} failed: {exception.Message}", target, exception);
            }
        }

        public static RedisRecoveryException Error(string errorId, FailureKind kind, string message, string target, Exception? inner = null) =>
            new(errorId, kind, message, inner) { Target = target };

        private static RedisRecoveryException FromService(Exception exception, string? code, HttpStatusCode status, string target, string endpoint)
        {
            var answer = string.IsNullOrEmpty(code) ? $"HTTP {(int)status}" : $"{code} (HTTP {(int)status})";
            switch (code)
            {
                case "NoSuchBucket":
                    return Error(BucketNotFound, FailureKind.NotFound, $"The bucket of {target} does not exist at {endpoint}.", target, exception);
                case "NoSuchKey":
                    return Error(ObjectNotFound, FailureKind.NotFound, $"{target} does not exist.", target, exception);
                case "AccessDenied" or "AllAccessDisabled" or "AccountProblem":
                    return Error(AccessDenied, FailureKind.SecurityError,
                        $"Access denied to {target}: {answer}. Check the IAM policy (and the KMS key policy when using aws:kms).", target, exception);
                case "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken" or "InvalidToken" or "TokenRefreshRequired":
                    return Error(AuthenticationFailed, FailureKind.AuthenticationFailed,
                        $"The credentials were refused for {target}: {answer}.", target, exception);
                case "PermanentRedirect" or "AuthorizationHeaderMalformed" or "IllegalLocationConstraintException" or "Redirect" or "TemporaryRedirect":
                    return Error(WrongRegion, FailureKind.InvalidArgument,
                        $"The bucket of {target} is in another region than the one requested at {endpoint}: {answer} {exception.Message}", target, exception);
                case "BadDigest" or "InvalidDigest" or "XAmzContentSHA256Mismatch" or "InvalidChecksum":
                    return Error(ChecksumMismatch, FailureKind.CorruptData,
                        $"The server rejected the bytes of {target} as damaged in transit: {answer}.", target, exception);
            }
            return status switch
            {
                HttpStatusCode.MovedPermanently or HttpStatusCode.Redirect or HttpStatusCode.TemporaryRedirect =>
                    Error(WrongRegion, FailureKind.InvalidArgument,
                        $"The bucket of {target} is in another region than the one requested at {endpoint} ({answer}).", target, exception),
                HttpStatusCode.Forbidden => Error(AccessDenied, FailureKind.SecurityError, $"Access denied to {target}: {answer}.", target, exception),
                HttpStatusCode.NotFound => Error(ObjectNotFound, FailureKind.NotFound, $"{target} does not exist ({answer}).", target, exception),
                _ => Error(RequestFailed, FailureKind.ServerError, $"S3 request for {target} failed: {answer} {exception.Message}", target, exception),
            };
        }
    }
}
