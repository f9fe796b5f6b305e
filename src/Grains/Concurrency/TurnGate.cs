namespace NoOrg.Grains.Concurrency;

/// <summary>
/// Serialises the state-changing sections of a reentrant grain: each runs alone, while calls that only wait on other
/// grains interleave.
/// </summary>
internal sealed class TurnGate : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);

    public async Task<T> RunAsync<T>(Func<Task<T>> action)
    {
        await gate.WaitAsync();
        try
        {
            return await action();
        }
        finally
        {
            gate.Release();
        }
    }

    public Task RunAsync(Func<Task> action) => RunAsync(async () =>
    {
        await action();
        return true;
    });

    public void Dispose() => gate.Dispose();
}
