namespace NoOrg.Grains.Reminders;

/// <summary>Reminder helpers every NoOrg grain uses the same way.</summary>
public static class GrainReminderExtensions
{
    /// <summary>Unregisters the grain's reminder of this name, if it has one (idempotent).</summary>
    public static async Task UnregisterReminderIfAnyAsync(this Grain grain, string name)
    {
        if (await grain.GetReminder(name) is { } reminder)
        {
            await grain.UnregisterReminder(reminder);
        }
    }
}
