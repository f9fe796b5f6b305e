using NoOrg.Grains;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Tasks;

namespace NoOrg.Tests.Patterns.Outbox;

/// <summary>
/// Messages live in noorg_outbox, not in the host's state: a change is one state write, delivery touches only the
/// rows, and rows left behind keep their attempts for a later activation.
/// </summary>
public abstract class OutboxRowTests(ClusterFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private TestTasks? tasks;

    private TestTasks Tasks => tasks ??= new TestTasks(fixture.Client);

    private OutboxTableRows Rows => new(fixture.Provider.ToDialect(), fixture.Properties["NOORG_STORAGE_CONNECTION_STRING"]);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (tasks is not null)
        {
            await tasks.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task A_task_change_is_one_state_write_and_its_delivered_messages_leave_only_the_outbox_table()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));

        // Task events reach the outbox only for a webhook that asks for them (watchers are pushed to directly).
        await using var endpoint = new WebhookListener(failFirst: 0);
        var webhooks = fixture.Client.GetGrain<IWebhooksGrain>(0);
        var capability = TestTasks.NewCapability();
        var subscription = await webhooks.AddAsync(endpoint.Url, ["task.created", "task.cancelled"], "outbox row test", secret: null);
        try
        {
            // A subscription reaches every silo within the webhook refresh period (5 s by default): after that, and
            // once a task created then is delivered, every silo sends.
            var added = System.Diagnostics.Stopwatch.StartNew();
            var refresh = TimeSpan.FromSeconds(new NoOrg.Configuration.OutboxSettings().WebhookRefreshSeconds + 1);
            var probes = new List<string>();
            await Eventually.ReturnsAsync(async () =>
            {
                var late = added.Elapsed > refresh;
                var probe = await Tasks.CreateAsync(TestTasks.Spec(capability));
                if (late)
                {
                    probes.Add(probe.Id);
                }

                return probes.Any(p => Delivered(endpoint, p).Length > 0);
            }, ready => ready, Wait, "a task.created webhook after the refresh period");

            // Waiting on a dependency, the task is not dispatched: nothing but the test writes it.
            var dependency = await Tasks.CreateAsync(TestTasks.Spec(capability));
            var (id, grain) = Tasks.New();
            await grain.CreateAsync(TestTasks.Spec(capability) with { DependsOn = [dependency.Id] }, TestTasks.Actor);
            var created = await Rows.StateAsync(TaskGrain.StateName, id);
            Assert.Equal(1, created.Version);

            await Eventually.ReturnsAsync(() => Task.FromResult(Delivered(endpoint, id)), e => e.Contains("task.created"), Wait, "the created webhook");
            await Eventually.ReturnsAsync(() => Rows.RowsAsync(TaskGrain.StateName, id), r => r.Count == 0, Wait, "the delivered rows deleted");

            // Deactivation is where a relay owing a clean-up write would have to make it at the latest.
            await fixture.Cluster.DeactivateAsync(grain);
            Assert.Equal(created, await Rows.StateAsync(TaskGrain.StateName, id));

            // The next change (by a new activation) is one more write, and does not record the created event again.
            await grain.CancelAsync("seen enough", "operator");
            var cancelled = await Rows.StateAsync(TaskGrain.StateName, id);
            Assert.Equal(2, cancelled.Version);
            await Eventually.ReturnsAsync(() => Task.FromResult(Delivered(endpoint, id)), e => e.Contains("task.cancelled"), Wait, "the cancelled webhook");
            await Eventually.ReturnsAsync(() => Rows.RowsAsync(TaskGrain.StateName, id), r => r.Count == 0, Wait, "the delivered rows deleted");
            await fixture.Cluster.DeactivateAsync(grain);
            Assert.Equal(cancelled, await Rows.StateAsync(TaskGrain.StateName, id));
            Assert.Equal(["task.created", "task.cancelled"], Delivered(endpoint, id));
        }
        finally
        {
            await webhooks.RemoveAsync(subscription.Subscription.Id);
        }
    }

    private static string[] Delivered(WebhookListener endpoint, string taskId) =>
    [
        .. endpoint.Accepted
            .Where(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("data").GetProperty("taskId").GetString() == taskId)
            .Select(r => r.Header(WebhookSignature.EventTypeHeader)),
    ];

    [SkippableFact]
    public async Task A_message_left_undelivered_keeps_its_attempts_and_goes_out_first_from_a_later_activation()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));

        // Attempts never run out here, and no sweeper steps in: only the next activation's own delivery moves the rows.
        await using var cluster = await FreshCluster.StartAsync(fixture.Provider, new Dictionary<string, string>
        {
            ["NOORG_OUTBOX_MAX_ATTEMPTS"] = "1000",
            ["NOORG_OUTBOX_RETRY_MAX_SECONDS"] = "1",
            ["NOORG_OUTBOX_SWEEP_SECONDS"] = "3600",
        });
        Skip.If(cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var rows = new OutboxTableRows(cluster.Provider.ToDialect(), cluster.ConnectionString);
        var receiverKey = "rx-" + Guid.NewGuid().ToString("N")[..10];
        var receiver = cluster.Client.GetGrain<IInboxReceiverGrain>(receiverKey);
        var probeKey = "probe-" + Guid.NewGuid().ToString("N")[..10];
        var probe = cluster.Client.GetGrain<IOutboxProbeGrain>(probeKey);
        OutboxFaults.Plan(receiverKey, before: 1000, after: 0);

        var earlier = await probe.RecordAsync(2, OutboxTarget.Grain(receiver.GetGrainId()), crashAfterWrite: false);
        await Eventually.ReturnsAsync(() => rows.RowsAsync(OutboxProbeGrain.StateName, probeKey), r => r.Count == 2 && r[0].Attempts >= 2, Wait,
            "failed attempts stored in the first row");
        await cluster.Cluster!.DeactivateAsync(probe);

        var left = await rows.RowsAsync(OutboxProbeGrain.StateName, probeKey);
        Assert.Equal(earlier, left.Select(r => r.MessageId));
        Assert.All(left, r => Assert.False(r.Dead));
        Assert.Equal(nameof(OutboxTargetKind.Grain), left[0].TargetKind);
        Assert.Contains("injected failure before handling", left[0].LastError, StringComparison.Ordinal);
        Assert.Equal(0, left[1].Attempts); // held back behind the first: order per target
        var attempts = left[0].Attempts;
        Assert.Equal(attempts, OutboxFaults.DeliveriesTo(receiverKey));

        // The receiver recovers; a new activation records one more message, and delivers the older ones before it.
        OutboxFaults.Plan(receiverKey, before: 0, after: 0);
        var later = await probe.RecordAsync(1, OutboxTarget.Grain(receiver.GetGrainId()), crashAfterWrite: false);
        await Eventually.ReturnsAsync(receiver.EffectsAsync, e => e.Count == 3, Wait, "every message handled");
        await Eventually.ReturnsAsync(() => rows.RowsAsync(OutboxProbeGrain.StateName, probeKey), r => r.Count == 0, Wait, "the delivered rows deleted");

        var afterwards = OutboxFaults.Deliveries.Where(d => d.Receiver == receiverKey).Skip(attempts).ToArray();
        Assert.Equal([.. earlier, .. later], afterwards.Select(d => d.MessageId));
        Assert.Equal([attempts + 1, 1, 1], afterwards.Select(d => d.Attempt));
        Assert.Equal([.. earlier, .. later], await receiver.EffectsAsync());
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteOutboxRowTests(SqliteClusterFixture fixture) : OutboxRowTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresOutboxRowTests(PostgresClusterFixture fixture) : OutboxRowTests(fixture);
