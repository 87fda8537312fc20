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

        public bool IsRangedGet => Method == "GET" && Header("Range") != null;

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

        /// <summary>
        /// Return a byte count to pass that much of the server's response body and then fail the read as a dropped connection
        /// would; null passes the whole body.
        /// </summary>
        public Func<RecordedRequest, int?>? BreakBodyAfter { get; set; }

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
                var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (BreakBodyAfter?.Invoke(recorded) is { } passed)
                {
                    response.Content = new BreakingContent(response.Content, passed);
                }
                return response;
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

    /// <summary>A response body that passes a number of bytes, then throws as a connection reset mid-body does.</summary>
    internal sealed class BreakingContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly int _passed;

        public BreakingContent(HttpContent inner, int passed)
        {
            _inner = inner;
            _passed = passed;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task SerializeToStreamAsync(System.IO.Stream stream, TransportContext? context)
        {
            var body = await _inner.ReadAsByteArrayAsync().ConfigureAwait(false);
            await stream.WriteAsync(body.AsMemory(0, Math.Min(_passed, body.Length))).ConfigureAwait(false);
            throw new System.IO.IOException($"test: connection reset after {_passed} bytes of the body");
        }

        protected override async Task<System.IO.Stream> CreateContentReadStreamAsync()
        {
            var body = await _inner.ReadAsByteArrayAsync().ConfigureAwait(false);
            return new BreakingStream(body, Math.Min(_passed, body.Length));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _inner.Headers.ContentLength ?? -1;
            return length >= 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }

        private sealed class BreakingStream : System.IO.MemoryStream
        {
            private readonly int _passed;

            public BreakingStream(byte[] body, int passed)
                : base(body, 0, body.Length, writable: false) => _passed = passed;

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (Position >= _passed)
                {
                    throw new System.IO.IOException($"test: connection reset after {_passed} bytes of the body");
                }
                return base.Read(buffer, offset, (int)Math.Min(count, _passed - Position));
            }

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                Task.FromResult(Read(buffer, offset, count));

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
            {
                var array = new byte[buffer.Length];
                var read = Read(array, 0, array.Length);
                array.AsSpan(0, read).CopyTo(buffer.Span);
                return new ValueTask<int>(read);
            }
        }
    }
}
