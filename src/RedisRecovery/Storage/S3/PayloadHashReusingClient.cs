using System;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.S3;
using Amazon.S3.Model;

namespace RedisRecovery.Storage.S3
{
    /// <summary>
    /// An S3 client that signs a body with the SHA-256 we already computed for its x-amz-checksum-sha256 header. A signed
    /// payload (what the SDK requires over plain HTTP) carries the body's SHA-256 in x-amz-content-sha256, which the signer
    /// otherwise computes with a second pass over every byte uploaded.
    /// </summary>
    internal sealed class PayloadHashReusingClient : AmazonS3Client
    {
        public PayloadHashReusingClient(AmazonS3Config config)
            : base(config)
        {
        }

        public PayloadHashReusingClient(AWSCredentials credentials, AmazonS3Config config)
            : base(credentials, config)
        {
        }

        protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
        {
            base.CustomizeRuntimePipeline(pipeline);
            pipeline.AddHandlerAfter<Marshaller>(new ChecksumAsPayloadHash());
        }

        private sealed class ChecksumAsPayloadHash : PipelineHandler
        {
            public override Task<T> InvokeAsync<T>(IExecutionContext executionContext)
            {
                Apply(executionContext.RequestContext);
                return base.InvokeAsync<T>(executionContext);
            }

            public override void InvokeSync(IExecutionContext executionContext)
            {
                Apply(executionContext.RequestContext);
                base.InvokeSync(executionContext);
            }

            private static void Apply(IRequestContext context)
            {
                var checksum = context.OriginalRequest switch
                {
                    UploadPartRequest { DisablePayloadSigning: not true } part => part.ChecksumSHA256,
                    PutObjectRequest { DisablePayloadSigning: not true } put => put.ChecksumSHA256,
                    _ => null,
                };
                if (!string.IsNullOrEmpty(checksum) && !context.Request.UseChunkEncoding)
                {
                    context.Request.PrecomputedContentSha256 = Hex.Lower(Convert.FromBase64String(checksum));
                }
            }
        }
    }
}
