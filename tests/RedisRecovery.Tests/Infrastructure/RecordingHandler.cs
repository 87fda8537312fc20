using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Tests.Infrastructure
{
    /// <summary>One request as it left the SDK: method, URL and every header (request and content).</summary>
    public sealed class RecordedRequest
    {
        public RecordedRequest(HttpRequestMessage request)
        {
            Method = request.Method.Method;
            Uri = request.RequestUri!;
            var headers = request.Headers.AsEnumerable();
            if (request.Content != null)
            {
                headers = headers.Concat(request.Content.Headers);
            }
            Headers = headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        }

        public string Method { get; }

        public Uri Uri { get; }

        public IReadOnlyDictionary<string, string> Headers { get; }

        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

        public bool HasQuery(string name) =>
            Uri.Query.TrimStart('?').Split('&').Any(pair => pair.Split('=')[0] == name);

        public bool IsUploadPart => Method == "PUT" && HasQuery("uploadId") && HasQuery("partNumber");

        public override string ToString() => $"{Method} {Uri.PathAndQuery}";
    }

    /// <summary>
    /// Sits between the AWS SDK and the network: records every request, counts requests in flight, and can answer a
    /// request itself (a canned S3 error) instead of passing it to the real server.
    /// </summary>
    public sealed class RecordingHandler : DelegatingHandler
    {
        private readonly ConcurrentQueue<RecordedRequest> _requests = new();
        private int _maxUploadPartsInFlight;
        private int _uploadPartsInFlight;

        public RecordingHandler()
            : base(new SocketsHttpHandler { AllowAutoRedirect = false })
        {
        }

        /// <summary>Return a response to answer the request without the server; null lets it through.</summary>
        public Func<RecordedRequest, HttpResponseMessage?>? Intercept { get; set; }

        public IReadOnlyList<RecordedRequest> Requests => _requests.ToList();

        public int MaxUploadPartsInFlight => Volatile.Read(ref _maxUploadPartsInFlight);

        public static HttpResponseMessage S3Error(HttpStatusCode status, string code, string message) => new(status)
        {
            Content = new StringContent(
                $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>TEST</RequestId></Error>",
                System.Text.Encoding.UTF8, "application/xml"),
        };

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var recorded = new RecordedRequest(request);
            _requests.Enqueue(recorded);
            if (Intercept?.Invoke(recorded) is { } canned)
            {
                canned.RequestMessage = request;
                return canned;
            }
            var isPart = recorded.IsUploadPart;
            if (isPart)
            {
                var now = Interlocked.Increment(ref _uploadPartsInFlight);
                int seen;
                while (now > (seen = Volatile.Read(ref _maxUploadPartsInFlight)) &&
                       Interlocked.CompareExchange(ref _maxUploadPartsInFlight, now, seen) != seen)
                {
                }
            }
            try
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (isPart)
                {
                    Interlocked.Decrement(ref _uploadPartsInFlight);
                }
            }
        }
    }
}
