using System.Collections;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Alerts;
using NoOrg.Grains.Health;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Patterns.Throttling;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;

namespace NoOrg.Silo.Api;

/// <summary>
/// The example of every endpoint in the OpenAPI document, as instances of the records the endpoints bind, so an
/// example cannot drift from the model. The main request and answer bodies are written out; the larger read models
/// are sampled from their constructors (<see cref="Sample{T}"/>). Fixed values: the committed document is stable.
/// </summary>
internal static class ApiExamples
{
    private static readonly DateTimeOffset At = new(2026, 1, 15, 9, 30, 0, TimeSpan.Zero);
    private const string TaskId = "t-kc1f7ad2e4b80a9d3f6a1e5b7c2d9f08";
    private const string AgentId = "agent-resizer-1";

    public static readonly TaskSpec TaskSpec = new(
        "resize holiday photo", "image.resize", "Resize to 640 px wide", "{\"url\":\"s3://photos/1.jpg\",\"width\":640}", TaskPriority.High,
        ["image.resize"], [], null, TimeSpan.FromMinutes(5), 3, TimeSpan.FromSeconds(10), null, "order-42-resize",
        new Dictionary<string, string> { ["customer"] = "c-17" });

    public static readonly TaskUpdate TaskUpdate = new(Priority: TaskPriority.Critical, Metadata: new Dictionary<string, string> { ["escalated"] = "yes" });

    public static readonly TaskSnapshot TaskSnapshot = new(
        TaskId, TaskSpec, TaskState.Pending, null, 0, At, At, null, null, null, null, null, null, [], null, 1);

    public static readonly ReasonRequest Reason = new("customer withdrew the order");

    public static readonly AgentRequest Agent = new(AgentId);

    public static readonly StartRequest Start = new(AgentId, 0);

    public static readonly TaskHeartbeatRequest Heartbeat = new(AgentId, 1);

    public static readonly HandBackRequest HandBack = new(AgentId, 1, "worker shutting down");

    public static readonly TaskSnapshot AssignedTask = TaskSnapshot with { State = TaskState.Assigned, AssignedTo = AgentId, Version = 2 };

    public static readonly TaskSnapshot RunningTask = TaskSnapshot with { State = TaskState.Running, AssignedTo = AgentId, Attempt = 1, StartedAt = At, Version = 3 };

    public static readonly ReassignRequest Reassign = new("agent-resizer-2", "agent-resizer-1 is being drained");

    public static readonly CompleteRequest Complete = new(AgentId, "{\"url\":\"s3://photos/1-640.jpg\"}", TimeSpan.FromSeconds(2.5), 1);

    public static readonly FailRequest Fail = new(AgentId, "source image not found", 1);

    public static readonly AgentRegistration AgentRegistration = new(
        "Resizer 1", "image-worker", "Resizes images", ["image.resize", "image.crop"], 4, new Dictionary<string, string> { ["zone"] = "eu-1" });

    public static readonly AgentUpdate AgentUpdate = new(MaxConcurrentTasks: 8);

    public static readonly AgentSnapshot AgentSnapshot = new(AgentId, AgentRegistration, AgentStatus.Available, null, [], At, At, At, 1);

    public static readonly SagaStartRequest SagaStart = new("order", "{\"orderId\":\"o-42\"}");

    public static readonly SagaSnapshot SagaSnapshot = new(
        "s-kd0e3b1c9a27f4e6b8d5c1a0f9e2b7c4", "order", SagaStatus.Running, SagaStart.InputJson,
        [new SagaStepSnapshot("reserve-stock", 0, SagaStepPhase.Running, 1, 0, true, null, null)], null, null, false, At, At, null, 2);

    public static readonly WebhookRequest WebhookRequest = new("https://hooks.example.com/noorg", ["task.*", "saga.completed"], "order events");

    public static readonly WebhookCreated WebhookCreated = new(
        new WebhookSubscription("wh-3a9c", WebhookRequest.Url, WebhookRequest.Events, WebhookRequest.Description, At), "whsec-5f2d8c1b9e4a7d3c6b0a1f8e2d9c4b7a");

    public static readonly RateLimitPolicy Policy = new("llm-calls", RateLimitKind.TokenBucket, 60, TimeSpan.FromMinutes(1), TokensPerPeriod: 60);

    public static readonly object TaskList = Sample<Page<TaskSummary>>();
    public static readonly object TaskHistory = Sample<Page<TaskEvent>>();
    public static readonly object TaskStatistics = Sample<TaskStatistics>();
    public static readonly object DurationEstimate = Sample<DurationEstimate>();
    public static readonly object AgentList = Sample<Page<AgentSummary>>();
    public static readonly object AgentCounts = Sample<AgentCounts>();
    public static readonly object Capabilities = new[] { "image.crop", "image.resize" };
    public static readonly object AgentHistory = Sample<Page<AgentEvent>>();
    public static readonly object AgentHealth = Sample<AgentHealth>();
    public static readonly object HealthReport = Sample<ClusterHealthReport>();
    public static readonly object SagaList = Sample<Page<SagaSummary>>();
    public static readonly object SagaStatistics = Sample<SagaStatistics>();
    public static readonly object SagaDefinitions = Sample<IReadOnlyList<SagaDefinitionInfo>>();
    public static readonly object SagaLog = Sample<Page<SagaLogEntry>>();
    public static readonly object Webhooks = new[] { WebhookCreated.Subscription };
    public static readonly object OutboxSummary = Sample<IReadOnlyList<OutboxSummary>>();
    public static readonly object OutboxDeadHosts = Sample<IReadOnlyList<OutboxDeadHost>>();
    public static readonly object DataStatistics = Sample<IReadOnlyList<NoOrg.Storage.Statistics.DataKindStatistics>>();
    public static readonly object RetentionRun = Sample<NoOrg.Grains.Retention.RetentionRun>();
    public static readonly object Policies = new[] { Policy };

    public static readonly AlertRuleSpec AlertRuleSpec = new(AlertKind.PendingTasks, 100, TimeSpan.FromMinutes(5), "image.resize", null, "resize backlog");

    private static readonly AlertTransition AlertFired = new(2, AlertAction.Firing, AlertState.Pending, AlertState.Firing, 140, At, "evaluator", null, true);

    public static readonly AlertRule AlertRule = new(
        "resize-backlog", AlertRuleSpec, AlertState.Firing, At, 140, At, null, null, 2,
        [new AlertTransition(1, AlertAction.Pending, AlertState.Ok, AlertState.Pending, 120, At.AddMinutes(-5), "evaluator", null, true), AlertFired],
        At.AddHours(-1), At);

    public static readonly object AlertRules = new[] { AlertRule };

    public static readonly Api.AlertAckRequest AlertAck = new("scaling the resizers");

    public static readonly Api.AlertSilenceRequest AlertSilence = new(TimeSpan.FromHours(1));
    public static readonly object LimiterStatus = Sample<RateLimiterStatus>();
    public static readonly object Decision = new RateLimitDecision(true, At, null, null, null);

    /// <summary>An instance of <typeparamref name="T"/> with a plausible value in every constructor parameter.</summary>
    public static T Sample<T>() => (T)Sample(typeof(T), typeof(T).Name, depth: 0)!;

    private static object? Sample(Type type, string name, int depth)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            return Sample(inner, name, depth);
        }

        if (type == typeof(string))
        {
            return Text(name);
        }

        if (type.IsEnum)
        {
            return Enum.GetValues(type).GetValue(0);
        }

        var simple = Simple(type, name);
        if (simple is not null || type.IsValueType)
        {
            return simple;
        }

        if (type.IsGenericType && type.GetGenericArguments() is { Length: 2 } pair && typeof(IEnumerable).IsAssignableFrom(type))
        {
            var map = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(pair))!;
            map.Add(Sample(pair[0], "key", depth + 1)!, Sample(pair[1], name, depth + 1));
            return map;
        }

        if (type.IsGenericType && type.GetGenericArguments() is { Length: 1 } one && typeof(IEnumerable).IsAssignableFrom(type))
        {
            var items = Array.CreateInstance(one[0], 1);
            items.SetValue(Sample(one[0], Singular(name), depth + 1), 0);
            return items;
        }

        if (depth > 6)
        {
            return null;
        }

        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        return constructor.Invoke([.. constructor.GetParameters().Select(p => Sample(p.ParameterType, p.Name!, depth + 1))]);
    }

    private static object? Simple(Type type, string name) =>
        type == typeof(int) ? (name is "skip" or "Skip" ? 0 : 1)
        : type == typeof(long) ? 1L
        : type == typeof(double) ? 0.5
        : type == typeof(bool) ? false
        : type == typeof(DateTimeOffset) ? At
        : type == typeof(TimeSpan) ? TimeSpan.FromSeconds(30)
        : type == typeof(Guid) ? new Guid("5f2d8c1b-9e4a-4d3c-8b0a-1f8e2d9c4b7a")
        : null;

    private static string Singular(string name) => name.EndsWith('s') ? name[..^1] : name;

    private static string Text(string name) => name switch
    {
        "id" or "taskId" or "TaskId" => TaskId,
        "agentId" or "AgentId" => AgentId,
        "sagaId" => "s-kd0e3b1c9a27f4e6b8d5c1a0f9e2b7c4",
        "definition" or "Definition" => "order",
        "stepId" or "Id" => "reserve-stock",
        "type" or "Type" => "image.resize",
        "name" or "Name" => "resize holiday photo",
        "policy" => "llm-calls",
        "key" => "customer-17",
        "stateName" => "task",
        "silo" => "S127.0.0.1:11111:0",
        "actor" => "http:api-key",
        _ when name.EndsWith("Json", StringComparison.Ordinal) => "{\"width\":640}",
        _ => name switch { "capabilitie" => "image.resize", "item" => "image.resize", _ => name.ToLowerInvariant() },
    };
}

/// <summary>The example request and answer of one endpoint, read by <see cref="ApiDocument"/>.</summary>
internal sealed record ApiExample(object? Request, object? Response);

internal static class ApiExampleExtensions
{
    public static RouteHandlerBuilder Example(this RouteHandlerBuilder endpoint, object? request, object? response) =>
        endpoint.WithMetadata(new ApiExample(request, response));
}
