using NoOrg.Grains.Security;
namespace NoOrg.Grains.Alerts;

/// <summary>
/// The silo-internal side of an alert rule grain, called only by <see cref="AlertRulesGrain"/> (calls go down:
/// the rule set calls its rules, never the other way).
/// </summary>
[Alias("noorg.alerts.rule-evaluation")]
[Requires(AccessRole.Admin)]
public interface IAlertRuleEvaluationGrain : IGrainWithStringKey
{
    /// <summary>Creates the rule or replaces its spec; state and history are kept.</summary>
    [Alias("set")] Task<AlertRule> SetAsync(AlertRuleSpec spec, string actor);

    /// <summary>False when there was no rule.</summary>
    [Alias("delete")] Task<bool> DeleteAsync();

    /// <summary>Applies one evaluation's reading; writes (with its notification) only when the state changes, and then returns true.</summary>
    [Alias("apply")] Task<bool> ApplyAsync(double value, DateTimeOffset at);
}
