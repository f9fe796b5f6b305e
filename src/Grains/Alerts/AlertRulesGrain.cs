using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using Orleans.Configuration;

namespace NoOrg.Grains.Alerts;

/// <summary>
/// The cluster's alert rules (names and specs) and their evaluation: every <c>NOORG_ALERTS_EVALUATION_SECONDS</c> a
/// timer reads each distinct signal once (<see cref="AlertSignals"/>) and hands every rule its value; a reminder
/// brings the grain back after a silo loss. One grain and one reminder, however many rules there are.
/// </summary>
public sealed partial class AlertRulesGrain(
    [PersistentState("alert-rules", StorageNames.Default)] IPersistentState<AlertRulesState> state,
    AlertSignals signals,
    NoOrgSettings settings,
    IOptions<ReminderOptions> reminderOptions,
    TimeProvider clock,
    ILogger<AlertRulesGrain> logger) : Grain, IAlertRulesGrain, IRemindable
{
    private const int Parallelism = 16;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(settings.Alerts.EvaluationSeconds);
        var minimum = reminderOptions.Value.MinimumReminderPeriod;
        var reminder = period > minimum ? period : minimum;
        await this.RegisterOrUpdateReminder("evaluate", reminder, reminder);
        this.RegisterGrainTimer(_ => EvaluateAsync(), new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    public Task EnsureRunningAsync() => Task.CompletedTask;

    /// <summary>The reminder only keeps the grain active (its activation starts the timer): the timer evaluates.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    public Task<int> EvaluateNowAsync() => EvaluateAsync();

    public async Task<AlertRule> CreateOrReplaceAsync(string name, AlertRuleSpec spec, string actor)
    {
        AlertRuleRules.Require(name, spec);
        InputText.RequireId("actor", actor);
        if (!state.State.Rules.TryGetValue(name, out var stored) || stored != spec)
        {
            // Listed first, so a rule that exists is always evaluated; a rule grain that failed to write is skipped.
            await WriteAsync(new Dictionary<string, AlertRuleSpec>(state.State.Rules, StringComparer.Ordinal) { [name] = spec });
        }

        return await Rule(name).SetAsync(spec, actor);
    }

    public async Task<bool> DeleteAsync(string name)
    {
        InputText.RequireId("name", name);
        var deleted = await Rule(name).DeleteAsync();
        if (state.State.Rules.ContainsKey(name))
        {
            var rules = new Dictionary<string, AlertRuleSpec>(state.State.Rules, StringComparer.Ordinal);
            rules.Remove(name);
            await WriteAsync(rules);
            return true;
        }

        return deleted;
    }

    public async Task<IReadOnlyList<AlertRule>> ListAsync()
    {
        var rules = new List<AlertRule>();
        foreach (var chunk in state.State.Rules.Keys.Order(StringComparer.Ordinal).Chunk(Parallelism))
        {
            rules.AddRange((await Task.WhenAll(chunk.Select(n => GrainFactory.GetGrain<IAlertRuleGrain>(n).GetAsync()))).OfType<AlertRule>());
        }

        return rules;
    }

    private IAlertRuleEvaluationGrain Rule(string name) => GrainFactory.GetGrain<IAlertRuleEvaluationGrain>(name);

    private async Task WriteAsync(Dictionary<string, AlertRuleSpec> rules)
    {
        var before = state.State;
        state.State = before with { Rules = rules };
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = before;
            throw;
        }
    }

    private async Task<int> EvaluateAsync()
    {
        var reading = signals.Begin(clock.GetUtcNow());
        var changed = 0;
        foreach (var chunk in state.State.Rules.Chunk(Parallelism))
        {
            var results = await Task.WhenAll(chunk.Select(r => ApplyAsync(reading, r.Key, r.Value)));
            changed += results.Count(c => c);
        }

        return changed;
    }

    /// <summary>True when the rule changed state. A failed read or write leaves the rule as it was until the next evaluation.</summary>
    private async Task<bool> ApplyAsync(AlertSignals.Reading reading, string name, AlertRuleSpec spec)
    {
        try
        {
            var value = await reading.ValueAsync(spec);
            return await Rule(name).ApplyAsync(value, reading.Now);
        }
        catch (Exception e)
        {
            LogEvaluationFailed(logger, e, name);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert rule {Rule} could not be evaluated; it keeps its state until the next evaluation")]
    private static partial void LogEvaluationFailed(ILogger logger, Exception exception, string rule);
}
