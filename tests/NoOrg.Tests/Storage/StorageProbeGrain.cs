namespace NoOrg.Tests.Storage;

/// <summary>State a probe grain keeps in the "noorg" ADO.NET storage.</summary>
[GenerateSerializer, Alias("NoOrg.Tests.Storage.ProbeState")]
public sealed record ProbeState
{
    [Id(0)]
    public string Text { get; init; } = "";

    [Id(1)]
    public int Number { get; init; }

    [Id(2)]
    public int ReminderTicks { get; init; }
}

[Alias("NoOrg.Tests.Storage.IStorageProbeGrain")]
public interface IStorageProbeGrain : IGrainWithStringKey
{
    [Alias("Save")]
    Task SaveAsync(string text, int number);

    [Alias("Load")]
    Task<ProbeState> LoadAsync();

    [Alias("StartTicking")]
    Task StartTickingAsync(TimeSpan period);

    [Alias("StopTicking")]
    Task StopTickingAsync();
}

/// <summary>Exercises the storage and reminder providers the way NoOrg's grains use them.</summary>
public sealed class StorageProbeGrain(
    [PersistentState(StorageProbeGrain.StateName, StorageProbeGrain.StorageName)] IPersistentState<ProbeState> state)
    : Grain, IStorageProbeGrain, IRemindable
{
    public const string StateName = "probe";
    public const string StorageName = "noorg";
    private const string ReminderName = "tick";

    public async Task SaveAsync(string text, int number)
    {
        state.State = state.State with { Text = text, Number = number };
        await state.WriteStateAsync();
    }

    public Task<ProbeState> LoadAsync() => Task.FromResult(state.State);

    public Task StartTickingAsync(TimeSpan period) => this.RegisterOrUpdateReminder(ReminderName, period, period);

    public async Task StopTickingAsync()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State = state.State with { ReminderTicks = state.State.ReminderTicks + 1 };
        await state.WriteStateAsync();
    }
}
