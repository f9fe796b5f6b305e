using NoOrg.Grains;

namespace NoOrg.Tests.Cluster;

/// <summary>A test grain with durable state and a reminder, to pin what storage must keep across restarts.</summary>
[Alias("noorg.tests.durable-counter")]
public interface IDurableCounterGrain : IGrainWithStringKey
{
    [Alias("add")] Task<int> AddAsync(int amount, string note);
    [Alias("get")] Task<CounterState> GetAsync();
    [Alias("start-ticking")] Task StartTickingAsync(TimeSpan period);
    [Alias("stop-ticking")] Task StopTickingAsync();

    /// <summary>The silo hosting this activation.</summary>
    [Alias("where")] Task<string> WhereAsync();
}

[GenerateSerializer, Alias("noorg.tests.counter-state")]
public sealed record CounterState
{
    [Id(0)] public int Count { get; init; }
    [Id(1)] public string Note { get; init; } = "";
    [Id(2)] public int Ticks { get; init; }
}

public sealed class DurableCounterGrain(
    [PersistentState("counter", StorageNames.Default)] IPersistentState<CounterState> state)
    : Grain, IDurableCounterGrain, IRemindable
{
    private const string Reminder = "tick";

    public async Task<int> AddAsync(int amount, string note)
    {
        state.State = state.State with { Count = state.State.Count + amount, Note = note };
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public Task<CounterState> GetAsync() => Task.FromResult(state.State);

    public Task<string> WhereAsync() => Task.FromResult(this.GetGrainId() + "@" + RuntimeIdentity);

    public Task StartTickingAsync(TimeSpan period) => this.RegisterOrUpdateReminder(Reminder, period, period);

    public async Task StopTickingAsync()
    {
        if (await this.GetReminder(Reminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State = state.State with { Ticks = state.State.Ticks + 1 };
        await state.WriteStateAsync();
    }
}
