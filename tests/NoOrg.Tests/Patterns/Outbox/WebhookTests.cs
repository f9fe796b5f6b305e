using System.Text.Json;
using NoOrg.Client.Sagas;
using NoOrg.Client.Tasks;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Sagas;

namespace NoOrg.Tests.Patterns.Outbox;

/// <summary>Webhooks: signed POSTs to a real local HTTP listener, retried until it recovers; task events by subscription.</summary>
public abstract class WebhookTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task A_webhook_failing_then_recovering_gets_every_message_once_signed()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var endpoint = new WebhookListener(failFirst: 3);
        var webhooks = fixture.Client.GetGrain<IWebhooksGrain>(0);
        var created = await webhooks.AddAsync(endpoint.Url, ["probe.*"], "outbox test", secret: null);
        try
        {
            var probe = fixture.Client.GetGrain<IOutboxProbeGrain>("probe-" + Guid.NewGuid().ToString("N")[..10]);
            var ids = await probe.RecordAsync(3, OutboxTarget.Webhook(created.Subscription.Id), crashAfterWrite: false);

            await Eventually.ReturnsAsync(probe.GetOutboxAsync, o => o.Count == 0, Wait, "an empty outbox");
            Assert.Equal(3 + 3, endpoint.Requests.Count);
            Assert.Equal(ids, endpoint.Accepted.Select(r => r.Header(WebhookSignature.MessageIdHeader)));
            foreach (var request in endpoint.Requests)
            {
                Assert.True(WebhookSignature.Verify(created.Secret, request.Header(WebhookSignature.TimestampHeader), request.Body,
                    request.Header(WebhookSignature.SignatureHeader)), "signature of " + request.Body);
                Assert.False(WebhookSignature.Verify("wrong-secret-0123456789", request.Header(WebhookSignature.TimestampHeader), request.Body,
                    request.Header(WebhookSignature.SignatureHeader)));
                using var json = JsonDocument.Parse(request.Body);
                Assert.Equal(request.Header(WebhookSignature.MessageIdHeader), json.RootElement.GetProperty("id").GetString());
                Assert.Equal("probe.recorded", json.RootElement.GetProperty("type").GetString());
            }

            // The first message took the three failures (retried by the host's resilience pipeline within one relay
            // attempt, or by the relay), the 4th request was accepted, and the later messages waited for it.
            var first = endpoint.Requests.Select((r, i) => (Id: r.Header(WebhookSignature.MessageIdHeader), Index: i)).Where(r => r.Id == ids[0]).ToList();
            Assert.Equal([0, 1, 2, 3], first.Select(r => r.Index));
        }
        finally
        {
            await webhooks.RemoveAsync(created.Subscription.Id);
        }
    }

    [SkippableFact]
    public async Task Task_events_reach_a_subscribed_webhook()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var endpoint = new WebhookListener(failFirst: 1);
        var webhooks = fixture.Client.GetGrain<IWebhooksGrain>(0);
        var created = await webhooks.AddAsync(endpoint.Url, ["task.created", "task.cancelled"], null, "a-secret-of-the-test-0123");
        try
        {
            Assert.Contains(await webhooks.ListAsync(), s => s.Id == created.Subscription.Id && s.Url == endpoint.Url);

            // A subscription reaches every silo within NOORG_OUTBOX_WEBHOOK_REFRESH_SECONDS: create tasks until one is seen.
            string? seen = null;
            await Eventually.ReturnsAsync(async () =>
            {
                var spec = new TaskSpec("hooked", "echo", RequiredCapabilities: ["nobody-" + Guid.NewGuid().ToString("N")]);
                await fixture.Client.GetGrain<ITaskGrain>(TaskClientExtensions.NewTaskId(spec)).CreateAsync(spec, "test");
                seen = endpoint.Accepted.Select(TaskIdOf).FirstOrDefault();
                return seen;
            }, s => s is not null, Wait, "a task.created webhook");

            await fixture.Client.GetGrain<ITaskGrain>(seen!).CancelAsync("webhook test", "test");
            var cancelled = await Eventually.ReturnsAsync(
                () => Task.FromResult(endpoint.Accepted.Where(r => TaskIdOf(r) == seen && r.Header(WebhookSignature.EventTypeHeader) == "task.cancelled").ToArray()),
                r => r.Length > 0, Wait, "the task.cancelled webhook");
            Assert.Single(cancelled);
            var body = JsonDocument.Parse(cancelled[0].Body).RootElement;
            Assert.StartsWith($"task:{seen}:", body.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.Equal(cancelled[0].Header(WebhookSignature.MessageIdHeader), body.GetProperty("id").GetString());
            Assert.Equal("Cancelled", body.GetProperty("data").GetProperty("action").GetString());
            Assert.Equal("webhook test", body.GetProperty("data").GetProperty("reason").GetString());
            Assert.True(WebhookSignature.Verify("a-secret-of-the-test-0123", cancelled[0].Header(WebhookSignature.TimestampHeader), cancelled[0].Body,
                cancelled[0].Header(WebhookSignature.SignatureHeader)));

            // Events the subscription does not ask for are not sent.
            Assert.DoesNotContain(endpoint.Requests, r => r.Header(WebhookSignature.EventTypeHeader) is not ("task.created" or "task.cancelled"));
        }
        finally
        {
            Assert.True(await webhooks.RemoveAsync(created.Subscription.Id));
        }

        Assert.DoesNotContain(await webhooks.ListAsync(), s => s.Id == created.Subscription.Id);
    }

    [SkippableFact]
    public async Task Saga_events_reach_a_subscribed_webhook_once_each_in_log_order()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var endpoint = new WebhookListener(failFirst: 1);
        var webhooks = fixture.Client.GetGrain<IWebhooksGrain>(0);
        var created = await webhooks.AddAsync(endpoint.Url, ["saga.*"], null, "a-secret-of-the-test-0123");
        try
        {
            // A subscription reaches every silo within NOORG_OUTBOX_WEBHOOK_REFRESH_SECONDS: start sagas until one is heard of.
            // Delivery follows the start's answer, so any saga started so far may be the first one heard of.
            var startedIds = new HashSet<string>(StringComparer.Ordinal);
            string? sagaId = null;
            await Eventually.ReturnsAsync(async () =>
            {
                var input = new TestSagaInput("webhook-" + Guid.NewGuid().ToString("N")[..10]).ToJson();
                startedIds.Add((await fixture.Client.StartSagaAsync(SagaTestSiloConfigurator.Chain, input)).Id);
                var heard = endpoint.Accepted.Select(SagaIdOf).FirstOrDefault(id => id is not null && startedIds.Contains(id));
                sagaId = heard;
                return heard;
            }, id => id is not null, Wait, "a saga.saga-started webhook");

            var saga = fixture.Client.GetGrain<ISagaGrain>(sagaId!);
            await Eventually.ReturnsAsync(saga.GetAsync, s => s!.Status == SagaStatus.Completed, Wait, "the saga completed");
            var log = (await saga.GetLogAsync(0, 1000)).Items;
            var heardOf = await Eventually.ReturnsAsync(
                () => Task.FromResult(endpoint.Accepted.Where(r => SagaIdOf(r) == sagaId).ToArray()),
                r => r.Length >= log.Count, Wait, "every event of the saga");

            Assert.Equal(log.Select(e => $"saga:{sagaId}:{e.Sequence}"), heardOf.Select(r => r.Header(WebhookSignature.MessageIdHeader)));
            Assert.Equal(log.Select(e => OutboxEventTypes.For("saga", e.Action)), heardOf.Select(r => r.Header(WebhookSignature.EventTypeHeader)));
            Assert.Equal("saga.saga-completed", heardOf[^1].Header(WebhookSignature.EventTypeHeader));
        }
        finally
        {
            Assert.True(await webhooks.RemoveAsync(created.Subscription.Id));
        }
    }

    private static string? SagaIdOf(WebhookListener.Received request) =>
        request.Header(WebhookSignature.EventTypeHeader).StartsWith("saga.", StringComparison.Ordinal)
            ? JsonDocument.Parse(request.Body).RootElement.GetProperty("data").GetProperty("sagaId").GetString()
            : null;

    [SkippableFact]
    public async Task A_subscription_with_a_bad_url_or_pattern_is_refused()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var webhooks = fixture.Client.GetGrain<IWebhooksGrain>(0);
        var error = await Assert.ThrowsAsync<ValidationException>(() => webhooks.AddAsync("ftp://example/x", ["task.*"], null, null));
        Assert.Contains("url", error.Message, StringComparison.Ordinal);
        error = await Assert.ThrowsAsync<ValidationException>(() => webhooks.AddAsync("http://127.0.0.1:1/x", ["ta*sk"], null, null));
        Assert.Contains("'ta*sk'", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ValidationException>(() => webhooks.AddAsync("http://127.0.0.1:1/x", [], null, null));
    }

    private static string? TaskIdOf(WebhookListener.Received request) =>
        request.Header(WebhookSignature.EventTypeHeader) == "task.created"
            ? JsonDocument.Parse(request.Body).RootElement.GetProperty("data").GetProperty("taskId").GetString()
            : request.Header(WebhookSignature.EventTypeHeader) == "task.cancelled"
                ? JsonDocument.Parse(request.Body).RootElement.GetProperty("data").GetProperty("taskId").GetString()
                : null;
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteWebhookTests(SqliteClusterFixture fixture) : WebhookTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresWebhookTests(PostgresClusterFixture fixture) : WebhookTests(fixture);
