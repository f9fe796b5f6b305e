using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using NoOrg.Configuration;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Validation;

/// <summary>
/// The edge property, for task specs and agent registrations together (one file: they share the generators and the
/// storage model, and a task is only dispatchable with an agent): either a typed validation error naming a field and
/// nothing stored, or stored, indexed and visible. Cheap cases check the pure rules against an independent model of
/// what storage, the index and dispatch take (<see cref="StorageModel"/>); a sample runs end to end on a cluster.
/// </summary>
internal static class EdgeInputProperty
{
    /// <summary>Generated cases checked against the pure rules: task specs and agent registrations.</summary>
    public const int PureTaskCases = 7_000;
    public const int PureAgentCases = 3_000;

    /// <summary>Generated cases run end to end per database (each: one registration and one task).</summary>
    public const int ClusterCases = 150;

    internal static readonly TasksSettings Limits = new();

    private static readonly string[] TaskFields =
    [
        "id", "name", "type", "description", "inputJson", "priority", "maxAttempts", "timeout", "retryBackoff", "deadline",
        "requiredCapabilities", "metadata", "dependsOn", "parentId", "idempotencyKey",
    ];

    private static readonly string[] AgentFields = ["id", "name", "type", "description", "capabilities", "maxConcurrentTasks", "metadata"];

    /// <summary>The task's problems by the grain's own rules (empty: accepted).</summary>
    internal static List<string> Problems(string id, TaskSpec spec) => TaskSpecRules.Problems(id, spec, Limits, DateTimeOffset.UtcNow);

    /// <summary>The registration as the grain stores it, or the validation error it answers with.</summary>
    internal static (AgentRegistration? Stored, ValidationException? Error) Normalize(string id, AgentRegistration registration)
    {
        try
        {
            return (AgentRules.Normalize(id, registration), null);
        }
        catch (ValidationException e)
        {
            return (null, e);
        }
    }

    /// <summary>Each problem is "field: message" with a field of the spec.</summary>
    internal static void AssertNamesFields(IEnumerable<string> problems, string[] fields)
    {
        foreach (var problem in problems)
        {
            var field = problem.Split(':', 2)[0];
            Assert.True(
                fields.Any(f => field == f || field.StartsWith(f + "[", StringComparison.Ordinal) || field.StartsWith(f + " ", StringComparison.Ordinal)),
                $"'{EdgeInputs.Show(problem)}' does not start with a field name");
        }
    }

    internal static string Describe(string id, TaskSpec s) =>
        $"id {EdgeInputs.Show(id)}, name {EdgeInputs.Show(s.Name)}, type {EdgeInputs.Show(s.Type)}, description {EdgeInputs.Show(s.Description)}, "
        + $"input {EdgeInputs.Show(s.InputJson)}, priority {(int)s.Priority}, capabilities [{string.Join(", ", (s.RequiredCapabilities ?? []).Take(3).Select(EdgeInputs.Show))}] ({s.RequiredCapabilities?.Count}), "
        + $"metadata {(s.Metadata is null ? "null" : string.Join(", ", s.Metadata.Take(2).Select(p => $"{EdgeInputs.Show(p.Key)}={EdgeInputs.Show(p.Value)}")))} ({s.Metadata?.Count}), "
        + $"key {EdgeInputs.Show(s.IdempotencyKey)}, dependsOn {EdgeInputs.Show(s.DependsOn?.FirstOrDefault())}, parent {EdgeInputs.Show(s.ParentId)}";

    internal static string Describe(string id, AgentRegistration r) =>
        $"id {EdgeInputs.Show(id)}, name {EdgeInputs.Show(r.Name)}, type {EdgeInputs.Show(r.Type)}, description {EdgeInputs.Show(r.Description)}, "
        + $"capabilities [{string.Join(", ", r.Capabilities.Take(3).Select(EdgeInputs.Show))}] ({r.Capabilities.Count}), max {r.MaxConcurrentTasks}, "
        + $"metadata {string.Join(", ", r.Metadata.Take(2).Select(p => $"{EdgeInputs.Show(p.Key)}={EdgeInputs.Show(p.Value)}"))} ({r.Metadata.Count})";

    internal static void TaskCase(string id, TaskSpec spec)
    {
        var problems = Problems(id, spec);
        var refusal = StorageModel.TaskRefusal(id, spec, Limits.MaxInputBytes);
        Assert.True(problems.Count > 0 || refusal is null, $"accepted, but {refusal}");
        AssertNamesFields(problems, TaskFields);
        if (problems.Count == 0)
        {
            // Dispatchable: an agent offering exactly the required capabilities can register.
            var capabilities = (spec.RequiredCapabilities ?? []).Select(c => c.Trim()).Distinct().ToArray();
            var agent = new AgentRegistration("agent", "any", "", capabilities.Length > 0 ? capabilities : ["any"], 1, new Dictionary<string, string>());
            Assert.Null(Normalize("agent-for-dispatch", agent).Error);
        }
    }

    internal static void AgentCase(string id, AgentRegistration registration)
    {
        var (stored, error) = Normalize(id, registration);
        Assert.True(error is not null || StorageModel.AgentRefusal(id, stored!) is null, $"accepted, but {(stored is null ? "" : StorageModel.AgentRefusal(id, stored))}");
        if (error is not null)
        {
            Assert.Equal("validation", error.Code);
            Assert.NotEmpty(error.Problems);
            AssertNamesFields(error.Problems, AgentFields);
        }
    }
}

/// <summary>The pure part: the grain's rules never let through what the model says storage, index or dispatch would refuse.</summary>
public sealed class EdgeInputRuleTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Task_specs_the_rules_accept_are_stored_indexed_and_dispatchable_as_given()
    {
        var accepted = 0;
        EdgeInputs.Tasks(EdgeInputs.AnyId).Sample(
            c =>
            {
                EdgeInputProperty.TaskCase(c.Id, c.Spec);
                if (EdgeInputProperty.Problems(c.Id, c.Spec).Count == 0)
                {
                    Interlocked.Increment(ref accepted);
                }
            },
            iter: EdgeInputProperty.PureTaskCases, threads: 1, print: c => EdgeInputProperty.Describe(c.Id, c.Spec));

        // Both outcomes must be exercised, or the property proves little.
        output.WriteLine($"{EdgeInputProperty.PureTaskCases} task specs, {accepted} accepted");
        Assert.InRange(accepted, EdgeInputProperty.PureTaskCases / 20, EdgeInputProperty.PureTaskCases * 19 / 20);
    }

    [Fact]
    public void Registrations_the_rules_accept_are_stored_and_indexed_as_normalised()
    {
        var accepted = 0;
        EdgeInputs.Agents(EdgeInputs.AnyId).Sample(
            c =>
            {
                EdgeInputProperty.AgentCase(c.Id, c.Registration);
                if (EdgeInputProperty.Normalize(c.Id, c.Registration).Error is null)
                {
                    Interlocked.Increment(ref accepted);
                }
            },
            iter: EdgeInputProperty.PureAgentCases, threads: 1, print: c => EdgeInputProperty.Describe(c.Id, c.Registration));

        output.WriteLine($"{EdgeInputProperty.PureAgentCases} registrations, {accepted} accepted");
        Assert.InRange(accepted, EdgeInputProperty.PureAgentCases / 20, EdgeInputProperty.PureAgentCases * 19 / 20);
    }

    [Fact]
    public void The_model_refuses_what_main_accepted()
    {
        // The model must be able to fail the property: each of these reached storage before the rules refused it.
        var spec = new TaskSpec("ok", "ok");
        string?[] refusals =
        [
            StorageModel.TaskRefusal("t", spec with { Name = "a\0b" }, 65536),
            StorageModel.TaskRefusal("t", spec with { Priority = (TaskPriority)99 }, 65536),
            StorageModel.TaskRefusal("t", spec with { RequiredCapabilities = [.. Enumerable.Range(0, 101).Select(i => $"c{i}")] }, 65536),
            StorageModel.TaskRefusal("t", spec with { Name = "\u001b[31mred" }, 65536),
            StorageModel.TaskRefusal("t", spec with { Description = "lone \ud800" }, 65536),
            StorageModel.TaskRefusal("t", spec with { Metadata = new Dictionary<string, string> { ["k"] = new string('v', 5_000_000) } }, 65536),
            StorageModel.TaskRefusal(new string('i', 100_000), spec, 65536),
        ];

        Assert.All(refusals, Assert.NotNull);
        Assert.Null(StorageModel.TaskRefusal("t", spec with { Name = "emoji 😀", Description = "two\nlines" }, 65536));
    }
}

/// <summary>
/// What storage, the index, dispatch and the terminal take, written apart from the rules: PostgreSQL refuses NUL
/// and lone surrogates (strict UTF-8 here), the index's projection priorities 0 to 3, the candidate lookup one join
/// per capability (SQLite joins at most 64 tables) of at most 100 characters, and the documented rule no control character in what is shown in
/// columns. A value must also survive the JSON the grain state is stored as.
/// </summary>
internal static class StorageModel
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string? TaskRefusal(string id, TaskSpec spec, int maxInputBytes)
    {
        var texts = new List<string?> { spec.Name, spec.Type, spec.Description, spec.InputJson, spec.ParentId, spec.IdempotencyKey };
        texts.AddRange(spec.RequiredCapabilities ?? []);
        texts.AddRange(spec.DependsOn ?? []);
        texts.AddRange(spec.Metadata?.Keys ?? []);
        texts.AddRange(spec.Metadata?.Values ?? []);
        return IdRefusal(id)
            ?? texts.Select(Unstorable).FirstOrDefault(r => r is not null)
            ?? ((int)spec.Priority is < 0 or > 3 ? "the index refuses the priority" : null)
            ?? ((spec.RequiredCapabilities?.Count ?? 0) > 63 ? "the candidate lookup joins once per capability, SQLite at most 64 tables" : null)
            ?? ((spec.RequiredCapabilities ?? []).Any(c => c.Trim().Length is 0 or > 100) ? "the candidate lookup refuses the capability" : null)
            ?? new[] { spec.Name, spec.Type }.Concat(spec.RequiredCapabilities ?? []).Concat(spec.Metadata?.Keys ?? []).Select(Shown).FirstOrDefault(r => r is not null)
            ?? (Strict.GetByteCount(spec.InputJson) > maxInputBytes ? "the input is over the cap" : null)
            ?? (spec.Metadata is { Count: > 64 } || (spec.Metadata?.Values.Any(v => v.Length > 1000) ?? false) ? "metadata over its documented limits" : null)
            ?? (spec.DependsOn ?? []).Select(IdRefusal).FirstOrDefault(r => r is not null)
            ?? (spec.ParentId is null ? null : IdRefusal(spec.ParentId))
            ?? RoundTrip(spec, s => s.Name + s.Type + s.Description + s.InputJson + string.Concat(s.RequiredCapabilities ?? []));
    }

    public static string? AgentRefusal(string id, AgentRegistration stored)
    {
        var texts = new List<string?> { stored.Name, stored.Type, stored.Description };
        texts.AddRange(stored.Capabilities);
        texts.AddRange(stored.Metadata.Keys);
        texts.AddRange(stored.Metadata.Values);
        return IdRefusal(id)
            ?? texts.Select(Unstorable).FirstOrDefault(r => r is not null)
            ?? (stored.Capabilities.Count is 0 or > 100 ? "the index takes 1 to 100 capabilities" : null)
            ?? (stored.Capabilities.Any(c => c.Length is 0 or > 100 || c != c.Trim()) ? "the index refuses the capability" : null)
            ?? new[] { stored.Name, stored.Type }.Concat(stored.Capabilities).Concat(stored.Metadata.Keys).Select(Shown).FirstOrDefault(r => r is not null)
            ?? (stored.Metadata.Count > 64 || stored.Metadata.Values.Any(v => v.Length > 1000) ? "metadata over its documented limits" : null)
            ?? RoundTrip(stored, r => r.Name + r.Type + r.Description + string.Concat(r.Capabilities));
    }

    /// <summary>The documented id rule: 1 to 256 characters, none of them whitespace, control or format characters.</summary>
    private static string? IdRefusal(string id) =>
        id.Length is 0 or > 256 ? "an id has 1 to 256 characters"
        : Unstorable(id)
        ?? (id.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
            ? "an id is printable without whitespace" : null);

    private static string? Unstorable(string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            return $"PostgreSQL refuses NUL in {EdgeInputs.Show(text)}";
        }

        try
        {
            Strict.GetByteCount(text);
            return null;
        }
        catch (EncoderFallbackException)
        {
            return $"not well-formed UTF-16: {EdgeInputs.Show(text)}";
        }
    }

    private static string? Shown(string text) => text.Any(char.IsControl) ? $"a terminal column would show {EdgeInputs.Show(text)} raw" : null;

    private static string? RoundTrip<T>(T value, Func<T, string> texts)
    {
        var back = JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value))!;
        return texts(back) == texts(value) ? null : "the stored JSON gives back other text";
    }
}

/// <summary>The end-to-end sample: each case registers an agent and creates a task through a real two-silo cluster.</summary>
public abstract class EdgeInputClusterTests(ClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan DispatchPatience = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task What_the_cluster_accepts_is_stored_listed_counted_and_dispatched_and_what_it_refuses_leaves_nothing()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var client = fixture.Client;
        var accepted = 0;
        var gen = Gen.Select(EdgeInputs.Agents(EdgeInputs.AddressableId), EdgeInputs.Tasks(EdgeInputs.AddressableId));
        await gen.SampleAsync(
            async (agent, task) =>
            {
                if (await AgentCaseAsync(client, agent.Id, agent.Registration) | await TaskCaseAsync(client, task.Id, task.Spec))
                {
                    Interlocked.Increment(ref accepted);
                }
            },
            iter: EdgeInputProperty.ClusterCases, threads: 4,
            print: c => EdgeInputProperty.Describe(c.Item1.Id, c.Item1.Registration) + " | " + EdgeInputProperty.Describe(c.Item2.Id, c.Item2.Spec));

        output.WriteLine($"{EdgeInputProperty.ClusterCases} cases on {fixture.Provider}, {accepted} with something accepted");
        Assert.True(accepted > 0, "no case was accepted");
    }

    /// <summary>True when the cluster accepted the registration.</summary>
    private static async Task<bool> AgentCaseAsync(IClusterClient client, string id, AgentRegistration registration)
    {
        var expected = EdgeInputProperty.Normalize(id, registration);
        var grain = client.GetGrain<IAgentGrain>(id);
        try
        {
            var snapshot = await grain.RegisterAsync(registration);
            Assert.True(expected.Error is null, $"the cluster accepted what the rules refuse: {expected.Error?.Message}");
            try
            {
                Assert.Equal(expected.Stored!.Capabilities, snapshot.Registration.Capabilities);
                Assert.Equal(expected.Stored.Name, (await grain.GetAsync())!.Registration.Name);
                var found = await client.GetGrain<IAgentRegistryGrain>(0).FindAsync(new AgentQuery([snapshot.Registration.Capabilities[0]], Take: 1000));
                Assert.Contains(found.Items, a => a.Id == id);
                var counts = await client.GetGrain<IAgentRegistryGrain>(0).CountAsync();
                Assert.True(counts.ByType.GetValueOrDefault(snapshot.Registration.Type) >= 1, "the agent is not counted by type");
            }
            finally
            {
                await grain.UnregisterAsync("edge case checked");
            }

            return true;
        }
        catch (ValidationException e)
        {
            Assert.True(expected.Error is not null, $"the rules accept what the cluster refused: {e.Message}");
            Assert.NotEmpty(e.Problems);
            Assert.Null(await grain.GetAsync());
            return false;
        }
    }

    /// <summary>True when the cluster accepted the task.</summary>
    private static async Task<bool> TaskCaseAsync(IClusterClient client, string id, TaskSpec spec)
    {
        var problems = EdgeInputProperty.Problems(id, spec);
        var grain = client.GetGrain<ITaskGrain>(id);
        var queries = client.GetGrain<ITaskQueryGrain>(0);
        TaskSnapshot created;
        try
        {
            created = await grain.CreateAsync(spec, "edge-test");
        }
        catch (ValidationException e)
        {
            Assert.True(problems.Count > 0, $"the rules accept what the cluster refused: {e.Message}");
            Assert.NotEmpty(e.Problems);
            Assert.Null(await grain.GetAsync());
            if (InputText.NameProblem("type", spec.Type) is null && spec.Type.Length is > 0 and <= TaskSpecRules.MaxTypeLength)
            {
                var listed = await queries.ListAsync(new TaskQuery(Types: [spec.Type], Take: 1000));
                Assert.DoesNotContain(listed.Items, t => t.Id == id);
            }

            return false;
        }

        Assert.True(problems.Count == 0, $"the cluster accepted what the rules refuse: {string.Join("; ", problems)}");
        var helper = client.GetGrain<IAgentGrain>($"edge-helper-{Guid.NewGuid():N}");
        try
        {
            var stored = (await grain.GetAsync())!;
            Assert.Equal(spec.Name, stored.Spec.Name);
            Assert.Equal(spec.Type, stored.Spec.Type);
            Assert.Equal(spec.Description, stored.Spec.Description);
            Assert.Equal(spec.InputJson, stored.Spec.InputJson);
            Assert.Equal(spec.RequiredCapabilities ?? [], stored.Spec.RequiredCapabilities ?? []);
            var listed = await queries.ListAsync(new TaskQuery(Types: [spec.Type], Take: 1000));
            var row = Assert.Single(listed.Items, t => t.Id == id);
            Assert.Equal((spec.Name, spec.Priority), (row.Name, row.Priority));
            var statistics = await queries.StatisticsAsync();
            Assert.True(statistics.ByType.GetValueOrDefault(spec.Type) >= 1, "the task is not counted by type");

            // Dispatchable: an agent offering its capabilities gets it.
            var needs = (spec.RequiredCapabilities ?? []).Select(c => c.Trim()).Distinct().ToArray();
            await helper.RegisterAsync(new AgentRegistration("edge helper", "edge-helper", "", needs.Length > 0 ? needs : ["anything"], 4, new Dictionary<string, string>()));
            var assigned = await Eventually.ReturnsAsync(grain.GetAsync, t => t!.State != TaskState.Pending, DispatchPatience, $"task {id} to be dispatched");
            Assert.Equal(TaskState.Assigned, assigned!.State);
            var holder = await client.GetGrain<IAgentGrain>(assigned.AssignedTo!).GetAsync();
            Assert.True(holder is null || needs.All(holder.Registration.Capabilities.Contains), $"{assigned.AssignedTo} lacks a capability of {id}");
            return true;
        }
        finally
        {
            if (await grain.GetAsync() is { IsTerminal: false })
            {
                await grain.CancelAsync("edge case checked", "edge-test");
            }

            await helper.UnregisterAsync("edge case checked");
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteEdgeInputClusterTests(SqliteClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
    : EdgeInputClusterTests(fixture, output);

[Collection(PostgresCluster.Name)]
public sealed class PostgresEdgeInputClusterTests(PostgresClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
    : EdgeInputClusterTests(fixture, output);
