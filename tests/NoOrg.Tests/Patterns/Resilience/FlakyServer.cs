using System.Net;
using NoOrg.Tests.Infrastructure;

// No synchronization context here (xunit, thread pool): awaiting tasks started elsewhere cannot deadlock.
#pragma warning disable VSTHRD003

namespace NoOrg.Tests.Patterns.Resilience;

/// <summary>A real HTTP listener on loopback that answers 500 while <see cref="Failing"/>, and can hold answers back.</summary>
public sealed class FlakyServer : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task loop;
    private int hits;

    public FlakyServer()
    {
        Url = new Uri($"http://127.0.0.1:{FreePorts.Next()}/");
        listener.Prefixes.Add(Url.ToString());
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    public int Hits => Volatile.Read(ref hits);

    /// <summary>Requests answered with 500 before the server recovers (int.MaxValue: until told otherwise).</summary>
    public int FailuresLeft { get; set; }

    public bool Failing
    {
        get => FailuresLeft > 0;
        set => FailuresLeft = value ? int.MaxValue : 0;
    }

    /// <summary>While set, answers wait for it to complete.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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

            _ = Task.Run(async () =>
            {
                Interlocked.Increment(ref hits);
                if (Gate is { } gate)
                {
                    await gate.Task;
                }

                var fail = FailuresLeft > 0;
                if (fail && FailuresLeft != int.MaxValue)
                {
                    FailuresLeft--;
                }

                context.Response.StatusCode = fail ? 500 : 200;
                context.Response.Close();
            });
        }
    }
}
