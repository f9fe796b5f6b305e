using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NoOrg.Client;
using NoOrg.Client.Sagas;
using NoOrg.Client.Tasks;
using NoOrg.Client.Workers;
using NoOrg.Grains.Observability;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Patterns.Outbox;
using NoOrg.Tests.Sagas;
using NoOrg.Tests.Workers;

namespace NoOrg.Tests.Observability;

/// <summary>
/// One task's life, from the client's create to the webhook of its completion, is one trace: spans of the client,
/// both silos and the worker, joined by Orleans' propagation within a call and by the task's stored traceparent
/// across the calls that come later.
/// </summary>
[Collection(TracingCluster.Name)]
public sealed class TracingTests(TracingClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_tasks_life_from_create_to_webhook_is_one_trace_with_the_expected_parents()
    {
        using var spans = new SpanRecorder();
        var life = await RunOneTaskAsync(spans);
        var trace = spans.Trace(life.Create.TraceId);
        var all = SpanRecorder.Describe(trace);

        // The client's span is the root; Orleans carries it into the task grain, on whichever silo that lives.
        Assert.Equal(default, life.Create.ParentSpanId);
        var created = Assert.Single(spans.GrainCalls(life.Create.TraceId, "CreateAsync"));
        Assert.True(IsUnder(created, life.Create, trace), all);

        // Later work joins the creating call through the task's traceparent: the placement and the worker's run are
        // children of the task grain's create, not of whichever call happened to run them.
        Assert.Equal(created.SpanId, life.Placement.ParentSpanId);
        Assert.Equal(created.SpanId, life.Run.ParentSpanId);
        Assert.Equal(life.Run.SpanId, life.Handler.ParentSpanId);
        Assert.True(IsUnder(Assert.Single(spans.GrainCalls(life.Create.TraceId, "AssignAsync")), life.Placement, trace), all);
        var start = Assert.Single(spans.GrainCalls(life.Create.TraceId, "StartAsync"));
        var complete = Assert.Single(spans.GrainCalls(life.Create.TraceId, "CompleteAsync"));
        Assert.True(IsUnder(start, life.Run, trace), all);
        Assert.True(IsUnder(complete, life.Run, trace), all);

        // The completion's event is recorded in the completing call, and its webhook delivery joins that call; the
        // HTTP request is a child of the delivery and carries the trace to the receiver.
        Assert.Equal(life.Create.TraceId, life.Delivery.TraceId);
        Assert.True(IsUnder(life.Delivery, complete, trace), all);
        var request = Assert.Single(trace, a => a.Kind == ActivityKind.Client && a.Source.Name == "System.Net.Http");
        Assert.Equal(life.Delivery.SpanId, request.ParentSpanId);
        Assert.StartsWith($"00-{life.Create.TraceId}-", life.Webhook.Header("traceparent"), StringComparison.Ordinal);

        // Nothing in the trace hangs loose: every span leads up to the client's.
        Assert.All(trace, span => Assert.True(IsUnder(span, life.Create, trace), $"{span.OperationName} is not under the create:\n{all}"));
    }

    [Fact]
    public async Task The_spans_of_a_task_carry_its_task_agent_and_message_attributes()
    {
        using var spans = new SpanRecorder();
        var life = await RunOneTaskAsync(spans);

        Assert.Equal(life.TaskId, life.Create.GetTagItem(NoOrgTracing.TaskId));
        Assert.Equal("trace-echo", life.Create.GetTagItem(NoOrgTracing.TaskType));
        Assert.Equal(life.TaskId, life.Placement.GetTagItem(NoOrgTracing.TaskId));
        Assert.Equal(life.AgentId, life.Placement.GetTagItem(NoOrgTracing.AgentId));
        Assert.Equal(NoOrg.Grains.Dispatch.DispatchPool.KeyOf([life.Capability]), life.Placement.GetTagItem(NoOrgTracing.Pool));
        Assert.Equal(life.TaskId, life.Run.GetTagItem(NoOrgTracing.TaskId));
        Assert.Equal(life.AgentId, life.Run.GetTagItem(NoOrgTracing.AgentId));
        Assert.Equal(1, life.Run.GetTagItem(NoOrgTracing.TaskAttempt));
        Assert.Equal("completed", life.Run.GetTagItem(NoOrgTracing.Outcome));
        Assert.Equal(ActivityKind.Consumer, life.Run.Kind);
        Assert.Equal(life.TaskId, life.Handler.GetTagItem(NoOrgTracing.TaskId));
        Assert.Equal("task.completed", life.Delivery.GetTagItem(NoOrgTracing.MessageType));
        Assert.Equal("webhook", life.Delivery.GetTagItem(NoOrgTracing.TargetKind));
        Assert.Equal(1, life.Delivery.GetTagItem(NoOrgTracing.DeliveryAttempt));
        Assert.Equal(life.Webhook.Header(WebhookSignature.MessageIdHeader), life.Delivery.GetTagItem(NoOrgTracing.MessageId));
    }

    [Fact]
    public async Task Each_saga_step_is_a_span_with_the_saga_and_step_in_the_trace_that_started_the_saga()
    {
        using var spans = new SpanRecorder();
        Activity.Current = null;
        var saga = await fixture.Client.StartSagaAsync(SagaTestSiloConfigurator.Chain, new TestSagaInput("trace-" + Guid.NewGuid().ToString("N")[..8]).ToJson());
        await Eventually.ReturnsAsync(() => fixture.Client.GetGrain<ISagaGrain>(saga.Id).GetAsync(), s => s!.Status == SagaStatus.Completed, Wait, "the saga to complete");

        var steps = await Eventually.ReturnsAsync(() => Task.FromResult(spans.Tagged(NoOrgTracing.SagaStepRun, NoOrgTracing.SagaId, saga.Id)),
            s => s.Count == 4, Wait, "a span for each of the 4 steps");
        Assert.Equal(["s1", "s2", "s3", "s4"], steps.Select(s => s.GetTagItem(NoOrgTracing.SagaStepId)).OfType<string>().Order(StringComparer.Ordinal));
        Assert.All(steps, s => Assert.Equal(SagaTestSiloConfigurator.Chain, s.GetTagItem(NoOrgTracing.SagaDefinition)));
        Assert.All(steps, s => Assert.Equal("step", s.GetTagItem(NoOrgTracing.SagaAction)));
        var start = Assert.Single(spans.Ended, a => a.Kind == ActivityKind.Server && a.OperationName.EndsWith("/StartAsync", StringComparison.Ordinal)
            && a.OperationName.Contains("ISagaGrain", StringComparison.Ordinal) && spans.Trace(a.TraceId).Any(s => steps.Contains(s)));
        Assert.All(steps, s => Assert.Equal(start.TraceId, s.TraceId));
    }

    [Fact]
    public async Task Log_lines_of_the_silo_and_the_worker_carry_the_trace_and_span_of_their_work()
    {
        using var spans = new SpanRecorder();
        using var workerLogs = new CapturingLoggerProvider();
        using var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(workerLogs).SetMinimumLevel(LogLevel.Debug))
            .AddNoOrgLogTraceIds() // what AddNoOrgWorker and AddNoOrgClient add to an app
            .BuildServiceProvider();
        var life = await RunOneTaskAsync(spans, services.GetRequiredService<ILogger<AgentWorkerService>>());

        var placed = await Eventually.ReturnsAsync(
            () => Task.FromResult(CapturingLoggerProvider.Silos.Lines.Where(l => l.Message == $"Task {life.TaskId} placed on agent {life.AgentId}").ToList()),
            l => l.Count == 1, Wait, "the silo's line about the placement");
        Assert.Equal(life.Create.TraceId.ToString(), placed[0].TraceId);
        Assert.Equal(life.Placement.SpanId.ToString(), placed[0].SpanId);

        var ran = Assert.Single(workerLogs.Lines, l => l.Message.StartsWith($"Task {life.TaskId} attempt 1: the handler ran", StringComparison.Ordinal));
        Assert.Equal(life.Create.TraceId.ToString(), ran.TraceId);
        Assert.Equal(life.Run.SpanId.ToString(), ran.SpanId);
    }

    [Fact]
    public async Task Untraced_work_stores_no_traceparent_and_sampled_out_work_records_no_span()
    {
        Activity.Current = null;
        var untraced = await fixture.Client.CreateTaskAsync(new TaskSpec("untraced", "trace-off", RequiredCapabilities: ["nobody-" + Guid.NewGuid().ToString("N")]), "test");
        Assert.Null(untraced.TraceParent);

        using var spans = new SpanRecorder(ActivitySamplingResult.PropagationData);
        var capability = "trace-out-" + Guid.NewGuid().ToString("N")[..10];
        await using var worker = await TestWorker.StartAsync(fixture.Client, capability + "-w", [capability], 1);
        Activity.Current = null;
        var task = await fixture.Client.CreateTaskAsync(new TaskSpec("sampled out", "trace-out", RequiredCapabilities: [capability]), "test");
        await Eventually.ReturnsAsync(() => fixture.Client.GetGrain<ITaskGrain>(task.Id).GetAsync(), t => t?.State == TaskState.Completed, Wait, "the task to complete");

        // The decision travels with the task (flags 00), so its later spans are left out too, and none gets attributes.
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", task.TraceParent);
        // The recorder hears every test's spans in this process, and these carry no attributes: the task's own traceparent names its trace.
        var traceId = ActivityTraceId.CreateFromString(task.TraceParent!.Split('-')[1]);
        var run = await Eventually.ReturnsAsync(() => Task.FromResult(spans.Named(NoOrgTracing.WorkerRun).Where(a => a.TraceId == traceId).ToList()),
            r => r.Count == 1, Wait, "the worker's run, left out");
        var ours = spans.Trace(run[0].TraceId).Where(a => a.Source.Name == NoOrgTracing.SourceName).ToList();
        Assert.Contains(ours, a => a.OperationName == NoOrgTracing.DispatchPlace);
        Assert.All(ours, a => Assert.False(a.Recorded || a.TagObjects.Any(), SpanRecorder.Describe([a])));
    }

    /// <summary>Creates a task from the client, has a worker run it, and waits for its completion's webhook and every span of it.</summary>
    private async Task<TaskLife> RunOneTaskAsync(SpanRecorder spans, ILogger<AgentWorkerService>? workerLogger = null)
    {
        var capability = "trace-" + Guid.NewGuid().ToString("N")[..10];
        await using var endpoint = new WebhookListener(failFirst: 0);
        var webhooks = fixture.Client.GetGrain<IWebhooksGrain>(0);
        var subscription = await webhooks.AddAsync(endpoint.Url, ["task.completed"], "tracing test", secret: null);
        try
        {
            await using var worker = await TestWorker.StartAsync(fixture.Client, capability + "-w", [capability], 1, logger: workerLogger);

            // A new subscription reaches the other silo within NOORG_OUTBOX_WEBHOOK_REFRESH_SECONDS: run tasks until the
            // completion of one reaches the webhook, and follow that one.
            TaskSnapshot task = null!;
            WebhookListener.Received? webhook = null;
            await Eventually.ReturnsAsync(async () =>
            {
                Activity.Current = null; // the test's own context: the client's span is the root
                task = await fixture.Client.CreateTaskAsync(new TaskSpec("traced", "trace-echo", RequiredCapabilities: [capability]), "test");
                await Eventually.ReturnsAsync(() => fixture.Client.GetGrain<ITaskGrain>(task.Id).GetAsync(), t => t?.State == TaskState.Completed, Wait, "the task to complete");
                for (var look = 0; look < 30 && webhook is null; look++)
                {
                    await Task.Delay(100);
                    webhook = endpoint.Requests.FirstOrDefault(r => r.Body.Contains(task.Id, StringComparison.Ordinal));
                }

                return webhook;
            }, r => r is not null, Wait, "a task's completion to reach the webhook");

            var create = Assert.Single(spans.Tagged(NoOrgTracing.TaskCreate, NoOrgTracing.TaskId, task.Id));
            var delivery = await Eventually.ReturnsAsync(
                () => Task.FromResult(spans.Named(NoOrgTracing.OutboxDeliver).Where(a => a.GetTagItem(NoOrgTracing.MessageId) as string == webhook!.Header(WebhookSignature.MessageIdHeader)).ToList()),
                d => d.Count == 1, Wait, "the delivery span to end");
            return new TaskLife(
                task.Id, worker.AgentId, capability, create,
                Assert.Single(spans.Tagged(NoOrgTracing.DispatchPlace, NoOrgTracing.TaskId, task.Id)),
                Assert.Single(spans.Tagged(NoOrgTracing.WorkerRun, NoOrgTracing.TaskId, task.Id)),
                Assert.Single(spans.Tagged(NoOrgTracing.WorkerHandler, NoOrgTracing.TaskId, task.Id)),
                delivery[0], webhook!);
        }
        finally
        {
            await webhooks.RemoveAsync(subscription.Subscription.Id);
        }
    }

    /// <summary>Whether <paramref name="ancestor"/> is <paramref name="span"/> or one of its parents within <paramref name="trace"/>.</summary>
    private static bool IsUnder(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        for (var current = span; current is not null; current = trace.FirstOrDefault(a => a.SpanId == current.ParentSpanId))
        {
            if (current.SpanId == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    private sealed record TaskLife(
        string TaskId, string AgentId, string Capability, Activity Create, Activity Placement, Activity Run, Activity Handler,
        Activity Delivery, WebhookListener.Received Webhook);
}
