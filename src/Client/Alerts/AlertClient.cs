using NoOrg.Grains.Alerts;

namespace NoOrg.Client.Alerts;

/// <summary>Alert rules over the cluster's own signals: create, list, acknowledge and silence them.</summary>
public sealed class AlertClient
{
    private readonly IClusterClient client;
    private readonly string actor;

    internal AlertClient(IClusterClient client, string actor)
    {
        this.client = client;
        this.actor = actor;
    }

    /// <summary>Creates the rule or replaces its spec (its state and history are kept).</summary>
    public Task<AlertRule> CreateOrReplaceAsync(string name, AlertRuleSpec spec, string? actor = null) => Rules.CreateOrReplaceAsync(name, spec, actor ?? this.actor);

    /// <summary>False when there was no rule of that name.</summary>
    public Task<bool> DeleteAsync(string name) => Rules.DeleteAsync(name);

    /// <summary>Every rule, by name.</summary>
    public Task<IReadOnlyList<AlertRule>> ListRulesAsync() => Rules.ListAsync();

    /// <summary>The rules that are pending or firing now.</summary>
    public async Task<IReadOnlyList<AlertRule>> ListActiveAsync() =>
        [.. (await Rules.ListAsync()).Where(r => r.State is AlertState.Pending or AlertState.Firing)];

    /// <summary>Null when no rule has this name.</summary>
    public Task<AlertRule?> GetAsync(string name) => Rule(name).GetAsync();

    public Task<AlertRule> AcknowledgeAsync(string name, string? note = null, string? actor = null) => Rule(name).AcknowledgeAsync(actor ?? this.actor, note);

    /// <summary>No notifications for <paramref name="duration"/> (zero lifts a silence); the rule still changes state.</summary>
    public Task<AlertRule> SilenceAsync(string name, TimeSpan duration, string? actor = null) => Rule(name).SilenceAsync(duration, actor ?? this.actor);

    private IAlertRulesGrain Rules => client.GetGrain<IAlertRulesGrain>(IAlertRulesGrain.Key);

    private IAlertRuleGrain Rule(string name) => client.GetGrain<IAlertRuleGrain>(Grains.InputText.RequireId("name", name));
}
