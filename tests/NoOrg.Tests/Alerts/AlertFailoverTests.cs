using NoOrg.Configuration;
using NoOrg.Grains.Alerts;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Patterns.Outbox;

namespace NoOrg.Tests.Alerts;

/// <summary>The silo hosting a rule is killed while it alerts: every transition still reaches the webhook, each under its one message id.</summary>
[Collection(PostgresCluster.Name)]
public sealed class AlertFailoverTests
{
    [SkippableFact]
    public Task A_silo_killed_while_a_rule_alerts_still_delivers_each_transition_once() =>
        OwnCluster.RunAsync(StorageProvider.Postgres, new Dictionary<string, string>
        {
            ["NOORG_ALERTS_EVALUATION_SECONDS"] = "1",
            ["NOORG_OUTBOX_WEBHOOK_REFRESH_SECONDS"] = "1",
            ["NOORG_OUTBOX_SWEEP_SECONDS"] = "1",
        }, async cluster =>
        {
            await using var endpoint = new WebhookListener(failFirst: 0);
            await cluster.Client.GetGrain<IWebhooksGrain>(0).AddAsync(endpoint.Url, ["alert.*"], null, secret: null);

            // A rule whose grain lives on the secondary silo, so the client's gateway (the primary) survives the kill.
            var secondary = cluster.SecondarySilos[0];
            var management = cluster.Client.GetGrain<IManagementGrain>(0);
            string? name = null;
            for (var i = 0; i < 100 && name is null; i++)
            {
                var candidate = "failover-" + Guid.NewGuid().ToString("N")[..10];
                var grain = cluster.Client.GetGrain<IAlertRuleGrain>(candidate);
                await grain.GetAsync();
                if (await management.GetActivationAddress(grain) is { } host && host.Equals(secondary.SiloAddress))
                {
                    name = candidate;
                }
            }

            Assert.NotNull(name);
            var rule = cluster.Client.GetGrain<IAlertRuleGrain>(name);
            var rules = cluster.Client.GetGrain<IAlertRulesGrain>(IAlertRulesGrain.Key);

            // No agent has the capability: pending at the first evaluation, firing 3 s later.
            await rules.CreateOrReplaceAsync(name, new AlertRuleSpec(AlertKind.NoHealthyAgent, 0, TimeSpan.FromSeconds(3), name), "test");
            await Eventually.ReturnsAsync(rule.GetAsync, r => r!.State == AlertState.Pending, TimeSpan.FromSeconds(20), "a pending rule");
            await cluster.KillSiloAsync(secondary);

            await Eventually.ReturnsAsync(rule.GetAsync, r => r!.State == AlertState.Firing, TimeSpan.FromSeconds(60), "firing after the kill");
            await rule.AcknowledgeAsync("ops", "after the kill");
            string[] ids = [$"alert:{name}:1", $"alert:{name}:2", $"alert:{name}:3"];
            await Eventually.ReturnsAsync(() => Task.FromResult(endpoint.Accepted.Select(r => r.Header(WebhookSignature.MessageIdHeader)).Distinct().Count()),
                n => n >= ids.Length, TimeSpan.FromSeconds(30), "three transitions delivered");
            await Eventually.ReturnsAsync(rule.GetOutboxAsync, o => o.Count == 0, TimeSpan.FromSeconds(30), "an empty outbox");

            var accepted = endpoint.Accepted.ToArray();
            Assert.Equal(ids, accepted.Select(r => r.Header(WebhookSignature.MessageIdHeader)).Distinct());
            Assert.Equal(["alert.pending", "alert.firing", "alert.acknowledged"],
                accepted.DistinctBy(r => r.Header(WebhookSignature.MessageIdHeader)).Select(r => r.Header(WebhookSignature.EventTypeHeader)));

            // A redelivery (a delivery the kill kept from being recorded) repeats the same message: same id, same data.
            foreach (var copies in accepted.GroupBy(r => r.Header(WebhookSignature.MessageIdHeader)))
            {
                Assert.Single(copies.Select(r => DataOf(r.Body)).Distinct());
            }

            Assert.Equal(3, (await rule.GetAsync())!.Sequence);
        });

    private static string DataOf(string body)
    {
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetRawText();
    }
}
