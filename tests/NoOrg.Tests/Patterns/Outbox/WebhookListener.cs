using System.Collections.Concurrent;
using System.Net;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Patterns.Outbox;

/// <summary>A real HTTP endpoint on loopback that answers 500 to the first requests it is told to fail, then 200.</summary>
public sealed class WebhookListener : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private int failuresLeft;

    public WebhookListener(int failFirst)
    {
        failuresLeft = failFirst;
        Url = $"http://127.0.0.1:{FreePorts.Next()}/hooks/{Guid.NewGuid():N}/";
        listener.Prefixes.Add(Url);
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>Every request, with the status it was answered with.</summary>
    public ConcurrentQueue<Received> Requests { get; } = new();

    public IEnumerable<Received> Accepted => Requests.Where(r => r.Status == 200);

    /// <summary>The serving loop ends by itself once the listener is closed (it catches what GetContextAsync then throws).</summary>
    public ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        return ValueTask.CompletedTask;
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, context.Request.ContentEncoding);
            var body = await reader.ReadToEndAsync();
            var status = Interlocked.Decrement(ref failuresLeft) >= 0 ? 500 : 200;
            var headers = context.Request.Headers.AllKeys.OfType<string>().ToDictionary(k => k, k => context.Request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
            Requests.Enqueue(new Received(headers, body, status));
            context.Response.StatusCode = status;
            context.Response.Close();
        }
    }

    public sealed record Received(IReadOnlyDictionary<string, string> Headers, string Body, int Status)
    {
        public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
    }
}
