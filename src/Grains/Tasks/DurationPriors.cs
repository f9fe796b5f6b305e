namespace NoOrg.Grains.Tasks;

/// <summary>
/// What to expect of a task type nobody has completed yet: a guess by priority, used until real samples exist.
/// Urgent work is assumed to be small (it is usually a quick check or a short reply), background work large.
/// </summary>
/// <remarks>
/// | priority | median | p90 |
/// |---|---|---|
/// | critical | 30 s | 90 s |
/// | high | 60 s | 180 s |
/// | medium | 120 s | 360 s |
/// | low | 300 s | 900 s |
/// </remarks>
public static class DurationPriors
{
    public static (TimeSpan Median, TimeSpan P90) For(TaskPriority priority) => priority switch
    {
        TaskPriority.Critical => (TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(90)),
        TaskPriority.High => (TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(180)),
        TaskPriority.Medium => (TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(360)),
        _ => (TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(900)),
    };

    public static DurationEstimate Estimate(string type, string? agentId, TaskPriority priority)
    {
        var (median, p90) = For(priority);
        return new DurationEstimate(type, agentId, median, p90, SampleCount: 0, FromPrior: true);
    }
}
