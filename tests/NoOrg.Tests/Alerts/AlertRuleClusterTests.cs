using System.Text.Json;
using NoOrg.Client.Tasks;
using NoOrg.Configuration;
using NoOrg.Grains.Alerts;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Patterns.Outbox;

namespace NoOrg.Tests.Alerts;

/// <summary>Alert rules in a two-silo cluster (SQLite; the lifecycle on PostgreSQL too), evaluated every second, notifying a real local webhook.</summary>
public sealed class AlertRuleClusterTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static readonly Dictionary<string, string> FastEvaluation = new()
    {
        ["NOORG_ALERTS_EVALUATION_SECONDS"] = "1",
        ["NOORG_OUTBOX_WEBHOOK_REFRESH_SECONDS"] = "1",
    };

    [SkippableTheory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    public Task A_rule_fires_after_its_for_duration_is_acknowledged_resolves_and_notifies_once_per_transition(StorageProvider provider) =>
        OwnCluster.RunAsync(provider, FastEvaluation, async cluster =>
        {
            await using var endpoint = new WebhookListener(failFirst: 1); // one refused delivery: retried, still delivered once
            await cluster.Client.GetGrain<IWebhooksGrain>(0).AddAsync(endpoint.Url, ["alert.*"], "alerts test", secret: null);
            var rules = cluster.Client.GetGrain<IAlertRulesGrain>(IAlertRulesGrain.Key);
            var capability = "alerting-" + Guid.NewGuid().ToString("N")[..8];
            var name = "backlog-" + capability;
            var created = await rules.CreateOrReplaceAsync(name, new AlertRuleSpec(AlertKind.PendingTasks, 0, TimeSpan.FromSeconds(2), capability), "test");
            Assert.Equal(AlertState.Ok, created.State);
            var rule = cluster.Client.GetGrain<IAlertRuleGrain>(name);

            // Evaluated with nothing pending: stays ok (the control).
            await Eventually.ReturnsAsync(rule.GetAsync, r => r!.LastEvaluatedAt is not null, Wait, "a first evaluation");
            Assert.Equal((AlertState.Ok, 0.0), ((await rule.GetAsync())!.State, (await rule.GetAsync())!.LastValue));

            // A task nobody can take: pending for the pool, so the rule goes pending, then fires after 2 s.
            var spec = new TaskSpec("stuck", "echo", RequiredCapabilities: [capability]);
            var taskId = TaskClientExtensions.NewTaskId(spec);
            await cluster.Client.GetGrain<ITaskGrain>(taskId).CreateAsync(spec, "test");
            var firing = await Eventually.ReturnsAsync(rule.GetAsync, r => r!.State == AlertState.Firing, Wait, "a firing rule");
            var pendingAt = firing!.History.Single(h => h.Action == AlertAction.Pending).At;
            var firingAt = firing.History.Single(h => h.Action == AlertAction.Firing).At;
            Assert.True(firingAt - pendingAt >= TimeSpan.FromSeconds(2), $"fired {firingAt - pendingAt} after pending");
            Assert.Contains(await rules.ListAsync(), r => r.Name == name && r.State == AlertState.Firing);

            var acked = await rule.AcknowledgeAsync("ops", "looking at the pool");
            Assert.Equal(("ops", "looking at the pool"), (acked.Acknowledgement!.By, acked.Acknowledgement.Note));
            Assert.Equal(AlertState.Firing, acked.State);

            await cluster.Client.GetGrain<ITaskGrain>(taskId).CancelAsync("alerts test", "test");
            await Eventually.ReturnsAsync(rule.GetAsync, r => r!.State == AlertState.Ok, Wait, "resolved, then ok again");

            string[] expected = ["alert.pending", "alert.firing", "alert.acknowledged", "alert.resolved"];
            await Eventually.ReturnsAsync(() => Task.FromResult(endpoint.Accepted.Count()), n => n >= expected.Length, Wait, "four deliveries");
            await Eventually.ReturnsAsync(rule.GetOutboxAsync, o => o.Count == 0, Wait, "an empty outbox");
            await rules.EvaluateNowAsync(); // one more evaluation: nothing new to tell

            var accepted = endpoint.Accepted.ToArray();
            Assert.Equal(expected, accepted.Select(r => r.Header(WebhookSignature.EventTypeHeader)));
            Assert.Equal([$"alert:{name}:1", $"alert:{name}:2", $"alert:{name}:3", $"alert:{name}:4"],
                accepted.Select(r => r.Header(WebhookSignature.MessageIdHeader)));
            using var resolved = JsonDocument.Parse(accepted[^1].Body);
            var data = resolved.RootElement.GetProperty("data");
            Assert.Equal(name, data.GetProperty("rule").GetString());
            Assert.Equal("Resolved", data.GetProperty("state").GetString());
            Assert.Equal(4, data.GetProperty("transition").GetProperty("sequence").GetInt64());
            Assert.Equal(expected.Length + 1, endpoint.Requests.Count); // the refused first attempt, then each once
        });

    [SkippableFact]
    public Task A_silenced_rule_changes_state_but_notifies_nothing_and_bad_input_is_a_validation_error_naming_the_field() =>
        OwnCluster.RunAsync(StorageProvider.Sqlite, FastEvaluation, async cluster =>
        {
            await using var endpoint = new WebhookListener(failFirst: 0);
            await cluster.Client.GetGrain<IWebhooksGrain>(0).AddAsync(endpoint.Url, ["alert.*"], null, secret: null);
            var rules = cluster.Client.GetGrain<IAlertRulesGrain>(IAlertRulesGrain.Key);

            var bad = await Assert.ThrowsAsync<ValidationException>(() =>
                rules.CreateOrReplaceAsync("failing-sagas", new AlertRuleSpec(AlertKind.SagaFailureRate, 2), "test"));
            Assert.Contains(bad.Problems, p => p.StartsWith("threshold:", StringComparison.Ordinal));
            Assert.Contains(bad.Problems, p => p.StartsWith("window:", StringComparison.Ordinal));
            Assert.Empty(await rules.ListAsync());
            var missing = await Assert.ThrowsAsync<ValidationException>(() =>
                rules.CreateOrReplaceAsync("no-resizer", new AlertRuleSpec(AlertKind.NoHealthyAgent), "test"));
            Assert.Equal(["capability: required for NoHealthyAgent rules"], missing.Problems);

            // No agent has this capability: a NoHealthyAgent rule holds at once.
            var name = "no-agent-" + Guid.NewGuid().ToString("N")[..8];
            await rules.CreateOrReplaceAsync(name, new AlertRuleSpec(AlertKind.NoHealthyAgent, 0, TimeSpan.Zero, name), "test");
            var rule = cluster.Client.GetGrain<IAlertRuleGrain>(name);
            await Assert.ThrowsAsync<ValidationException>(() => rule.SilenceAsync(TimeSpan.FromDays(400), "ops"));
            await rule.SilenceAsync(TimeSpan.FromHours(1), "ops");

            var fired = await Eventually.ReturnsAsync(rule.GetAsync, r => r!.State == AlertState.Firing, Wait, "a firing rule");
            Assert.False(fired!.History.Single(h => h.Action == AlertAction.Firing).Notified);
            await rules.EvaluateNowAsync();
            Assert.Empty(endpoint.Requests);

            // Lifting the silence makes the next change notified again: the acknowledgement.
            await rule.SilenceAsync(TimeSpan.Zero, "ops");
            await rule.AcknowledgeAsync("ops", null);
            var delivered = await Eventually.ReturnsAsync(() => Task.FromResult(endpoint.Accepted.ToArray()), a => a.Length > 0, Wait, "the acknowledgement");
            Assert.Equal(["alert.acknowledged"], delivered.Select(r => r.Header(WebhookSignature.EventTypeHeader)));

            Assert.True(await rules.DeleteAsync(name));
            Assert.Null(await rule.GetAsync());
            await Assert.ThrowsAsync<NotFoundException>(() => rule.AcknowledgeAsync("ops", null));
        });
}
