using System.Collections.Concurrent;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using NoOrg.Tests.Agents;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Tasks;

/// <summary>
/// The task lifecycle on real grains in the shared two-silo clusters: every legal transition and its history, every
/// illegal one refused without a change, retries, timeouts, deadlines and dependencies. Tasks and agents use fresh
/// ids and capabilities nobody else has, so the dispatcher only ever pairs a test's tasks with its own agents.
/// </summary>
public abstract class TaskLifecycleTests(ClusterFixture fixture) : IAsyncLifetime
{
    private TestTasks? tasks;
    private TestAgents? agents;

    private TestTasks Tasks => tasks ??= new TestTasks(fixture.Client);

    private TestAgents Agents => agents ??= new TestAgents(fixture.Client);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Tasks first: an agent unregistered while it still holds one would hand it back to be dispatched again.
        if (tasks is not null)
        {
            await tasks.DisposeAsync();
        }

        if (agents is not null)
        {
            await agents.DisposeAsync();
        }
    }

    private void SkipWithoutCluster() => Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));

    private async Task<(string Capability, string AgentId)> AgentAsync(int maxConcurrentTasks = 5)
    {
        var capability = TestTasks.NewCapability();
        var (agentId, _) = await Agents.RegisterAsync(TestAgents.Registration([capability], maxConcurrentTasks));
        return (capability, agentId);
    }

    /// <summary>A task the dispatcher has placed on a fresh agent of this test (the way tasks are assigned).</summary>
    private async Task<(TaskSnapshot Task, string AgentId)> AssignedAsync(Func<TaskSpec, TaskSpec>? shape = null)
    {
        var (capability, agentId) = await AgentAsync();
        var spec = TestTasks.Spec(capability);
        var created = await Tasks.CreateAsync(shape is null ? spec : shape(spec));
        var assigned = await Tasks.WaitAsync(created.Id, t => t.State == TaskState.Assigned, "the dispatcher to assign the task");
        Assert.Equal(agentId, assigned.AssignedTo);
        return (assigned, agentId);
    }

    /// <summary>
    /// A pending task nobody can take, once the dispatcher has noted why: from then on nothing changes it by
    /// itself, so a test can compare versions.
    /// </summary>
    private async Task<TaskSnapshot> UnassignableAsync(TaskSpec? spec = null)
    {
        var created = await Tasks.CreateAsync(spec ?? TestTasks.Spec(TestTasks.NewCapability()));
        return await Tasks.WaitAsync(created.Id, t => t.UnassignableReason is not null, "the dispatcher to note why it cannot place the task");
    }

    private async Task<(TaskSnapshot Task, string AgentId)> RunningAsync(Func<TaskSpec, TaskSpec>? shape = null)
    {
        var (assigned, agentId) = await AssignedAsync(shape);
        return (await Tasks.Grain(assigned.Id).StartAsync(agentId), agentId);
    }

    [SkippableFact]
    public async Task Create_stores_a_pending_task_and_records_who_created_it()
    {
        SkipWithoutCluster();
        var spec = TestTasks.Spec(TestTasks.NewCapability()) with { Metadata = new Dictionary<string, string> { ["team"] = "a" } };

        var task = await Tasks.CreateAsync(spec);

        Assert.Equal(TaskState.Pending, task.State);
        Assert.Equal(1, task.Version);
        Assert.Equal(0, task.Attempt);
        Assert.Empty(task.WaitingOn);
        var stored = await Tasks.GetAsync(task.Id);
        // The dispatcher may already have noted why nobody can take it (a later version); what was created stays.
        Assert.Equal((task.State, task.CreatedAt, "team"), (stored.State, stored.CreatedAt, stored.Spec.Metadata!.Keys.Single()));
        Assert.True(stored.Version >= task.Version);
        var history = await Tasks.HistoryAsync(task.Id);
        Assert.Equal((TaskAction.Created, TaskState.Pending, TestTasks.Actor, 1L), (history[0].Action, history[0].To, history[0].Actor, history[0].Sequence));
        Assert.All(history.Skip(1), e => Assert.Equal(TaskAction.Unassignable, e.Action)); // the dispatcher saying why nobody took it
    }

    [SkippableFact]
    public async Task Create_with_the_same_spec_returns_the_task_and_with_another_spec_is_a_conflict()
    {
        SkipWithoutCluster();
        var spec = TestTasks.Spec(TestTasks.NewCapability());
        var first = await UnassignableAsync(spec);
        var grain = Tasks.Grain(first.Id);

        var again = await grain.CreateAsync(spec with { RequiredCapabilities = [.. spec.RequiredCapabilities!] }, "someone else");

        Assert.Equal((first.Id, first.Version, first.CreatedAt), (again.Id, again.Version, again.CreatedAt));
        Assert.Single(await Tasks.HistoryAsync(first.Id), e => e.Action == TaskAction.Created);
        var conflict = await Assert.ThrowsAsync<ConflictException>(() => grain.CreateAsync(spec with { Name = "another name" }, TestTasks.Actor));
        Assert.Contains(first.Id, conflict.Message, StringComparison.Ordinal);
        Assert.Equal(first.Version, (await Tasks.GetAsync(first.Id)).Version);
    }

    public static TheoryData<string, string> InvalidSpecs => new()
    {
        { "empty name", "name" },
        { "long name", "name" },
        { "empty type", "type" },
        { "long type", "type" },
        { "invalid json", "inputJson" },
        { "input too large", "inputJson" },
        { "no attempts", "maxAttempts" },
        { "too many attempts", "maxAttempts" },
        { "zero timeout", "timeout" },
        { "negative backoff", "retryBackoff" },
        { "past deadline", "deadline" },
        { "blank capability", "requiredCapabilities" },
        { "too much metadata", "metadata" },
        { "NUL in name", "name" },
        { "escape sequence in type", "type" },
        { "priority out of range", "priority" },
        { "too many capabilities", "requiredCapabilities" },
        { "huge metadata value", "metadata[big]" },
        { "id of 100,000 characters", "id" },
    };

    [SkippableTheory]
    [MemberData(nameof(InvalidSpecs))]
    public async Task Create_rejects_bad_input_naming_the_field(string problem, string field)
    {
        SkipWithoutCluster();
        var spec = TestTasks.Spec(TestTasks.NewCapability());
        spec = problem switch
        {
            "empty name" => spec with { Name = "" },
            "long name" => spec with { Name = new string('n', 201) },
            "empty type" => spec with { Type = " " },
            "long type" => spec with { Type = new string('t', 101) },
            "invalid json" => spec with { InputJson = "{not json" },
            "input too large" => spec with { InputJson = $"\"{new string('x', (64 * 1024) + 1)}\"" },
            "no attempts" => spec with { MaxAttempts = 0 },
            "too many attempts" => spec with { MaxAttempts = 101 },
            "zero timeout" => spec with { Timeout = TimeSpan.Zero },
            "negative backoff" => spec with { RetryBackoff = TimeSpan.FromSeconds(-1) },
            "past deadline" => spec with { Deadline = DateTimeOffset.UtcNow.AddMinutes(-1) },
            "blank capability" => spec with { RequiredCapabilities = ["ok", " "] },
            "too much metadata" => spec with { Metadata = Enumerable.Range(0, 65).ToDictionary(i => $"k{i}", i => "v") },
            "NUL in name" => spec with { Name = "a\0b" },
            "escape sequence in type" => spec with { Type = "\u001b[31mred" },
            "priority out of range" => spec with { Priority = (TaskPriority)99 },
            "too many capabilities" => spec with { RequiredCapabilities = [.. Enumerable.Range(0, 101).Select(i => $"c{i}")] },
            "huge metadata value" => spec with { Metadata = new Dictionary<string, string> { ["big"] = new string('v', 5_000_000) } },
            "id of 100,000 characters" => spec,
            _ => throw new ArgumentOutOfRangeException(nameof(problem), problem, null),
        };
        var (id, grain) = problem == "id of 100,000 characters" ? (new string('i', 100_000), Tasks.Grain(new string('i', 100_000))) : Tasks.New();

        var error = await Assert.ThrowsAsync<ValidationException>(() => grain.CreateAsync(spec, TestTasks.Actor));

        Assert.Contains(error.Problems, p => p.StartsWith(field + ":", StringComparison.Ordinal) || p.StartsWith(field + "[", StringComparison.Ordinal));
        Assert.Equal("validation", error.Code);
        Assert.Null(await Tasks.Grain(id).GetAsync());
    }

    [SkippableFact]
    public async Task Create_rejects_unknown_dependencies_listing_every_one()
    {
        SkipWithoutCluster();
        var known = await Tasks.CreateAsync(TestTasks.Spec(TestTasks.NewCapability()));
        var (missing1, missing2) = ($"missing-{Guid.NewGuid():N}", $"missing-{Guid.NewGuid():N}");
        var (id, grain) = Tasks.New();

        var error = await Assert.ThrowsAsync<ValidationException>(() =>
            grain.CreateAsync(TestTasks.Spec("x") with { DependsOn = [known.Id, missing1, missing2] }, TestTasks.Actor));

        Assert.Contains(missing1, error.Message, StringComparison.Ordinal);
        Assert.Contains(missing2, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(known.Id, error.Message, StringComparison.Ordinal);
        Assert.Null(await grain.GetAsync());
    }

    [SkippableFact]
    public async Task Create_rejects_a_dependency_on_itself_and_on_a_missing_parent()
    {
        SkipWithoutCluster();
        var (id, grain) = Tasks.New();

        var self = await Assert.ThrowsAsync<ValidationException>(() =>
            grain.CreateAsync(TestTasks.Spec("x") with { DependsOn = [id] }, TestTasks.Actor));
        var parent = await Assert.ThrowsAsync<ValidationException>(() =>
            grain.CreateAsync(TestTasks.Spec("x") with { ParentId = $"missing-{Guid.NewGuid():N}" }, TestTasks.Actor));

        Assert.Contains("itself", self.Message, StringComparison.Ordinal);
        Assert.Contains("parentId:", parent.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Create_rejects_a_dependency_that_would_close_a_cycle()
    {
        SkipWithoutCluster();

        // The only way an id can come back into a graph: a task is purged and re-created under the same id.
        var capability = TestTasks.NewCapability();
        var (aId, a) = Tasks.New();
        await a.CreateAsync(TestTasks.Spec(capability), TestTasks.Actor);
        var b = await Tasks.CreateAsync(TestTasks.Spec(capability) with { DependsOn = [aId] });
        var c = await Tasks.CreateAsync(TestTasks.Spec(capability) with { DependsOn = [b.Id] });
        await a.CancelAsync("make room", TestTasks.Actor);
        await Tasks.WaitAsync(c.Id, t => t.State == TaskState.Failed, "the failure to reach the dependent's dependent");
        Assert.True(await a.PurgeAsync());

        var error = await Assert.ThrowsAsync<ValidationException>(() =>
            a.CreateAsync(TestTasks.Spec(capability) with { DependsOn = [c.Id] }, TestTasks.Actor));

        Assert.Contains("cycle", error.Message, StringComparison.Ordinal);
        Assert.Null(await a.GetAsync());
    }

    [SkippableFact]
    public async Task A_dependent_waits_until_its_dependency_completes()
    {
        SkipWithoutCluster();
        var (dependency, agentId) = await AssignedAsync();
        var capability = dependency.Spec.RequiredCapabilities![0];
        var dependent = await Tasks.CreateAsync(TestTasks.Spec(capability) with { DependsOn = [dependency.Id] });
        Assert.Equal([dependency.Id], dependent.WaitingOn);

        await Tasks.Grain(dependency.Id).StartAsync(agentId);
        Assert.Equal(TaskState.Pending, (await Tasks.GetAsync(dependent.Id)).State); // still waiting while the dependency runs
        await Tasks.Grain(dependency.Id).CompleteAsync(agentId, "42", TimeSpan.FromSeconds(1));

        var assigned = await Tasks.WaitAsync(dependent.Id, t => t.State == TaskState.Assigned, "the dependent to be dispatched");
        Assert.Empty(assigned.WaitingOn);
        var satisfied = (await Tasks.HistoryAsync(dependent.Id)).Single(e => e.Action == TaskAction.DependencySatisfied);
        Assert.Contains(dependency.Id, satisfied.Reason, StringComparison.Ordinal);

        // A dependency that already completed is not waited on at all.
        var late = await Tasks.CreateAsync(TestTasks.Spec(capability) with { DependsOn = [dependency.Id] });
        Assert.Empty(late.WaitingOn);
    }

    [SkippableFact]
    public async Task A_failed_or_cancelled_dependency_fails_its_dependents_and_cannot_be_depended_on()
    {
        SkipWithoutCluster();
        var capability = TestTasks.NewCapability();
        var dependency = await Tasks.CreateAsync(TestTasks.Spec(capability));
        var dependent = await Tasks.CreateAsync(TestTasks.Spec(capability) with { DependsOn = [dependency.Id] });

        await Tasks.Grain(dependency.Id).CancelAsync("not needed", TestTasks.Actor);

        var failed = await Tasks.WaitAsync(dependent.Id, t => t.State == TaskState.Failed, "the dependent to fail");
        Assert.Equal($"dependency {dependency.Id} was cancelled", failed.Error);
        var error = await Assert.ThrowsAsync<ValidationException>(() =>
            Tasks.CreateAsync(TestTasks.Spec(capability) with { DependsOn = [dependency.Id] }));
        Assert.Contains("can never complete", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Assign_start_and_complete_record_each_step_and_a_repeated_completion_changes_nothing()
    {
        SkipWithoutCluster();
        var (assigned, agentId) = await AssignedAsync();
        var grain = Tasks.Grain(assigned.Id);

        var running = await grain.StartAsync(agentId);
        var completed = await grain.CompleteAsync(agentId, """{"answer":42}""", TimeSpan.FromSeconds(3));
        var repeated = await grain.CompleteAsync(agentId, """{ "answer": 42 }""", TimeSpan.FromSeconds(4));

        Assert.Equal((TaskState.Running, 1), (running.State, running.Attempt));
        Assert.Equal((TaskState.Completed, """{"answer":42}""", TimeSpan.FromSeconds(3)), (completed.State, completed.ResultJson, completed.ProcessingTime));
        Assert.NotNull(completed.FinishedAt);
        Assert.Equal(completed.Version, repeated.Version);
        Assert.Equal(completed.ResultJson, repeated.ResultJson);
        var history = await Tasks.HistoryAsync(assigned.Id);
        Assert.Equal([TaskAction.Created, TaskAction.Assigned, TaskAction.Started, TaskAction.Completed], history.Select(e => e.Action));
        Assert.Equal([1L, 2, 3, 4], history.Select(e => e.Sequence));
        Assert.Equal((TaskState.Pending, TaskState.Assigned, agentId, "dispatcher"), (history[1].From, history[1].To, history[1].ToAgent, history[1].Actor));
        Assert.Equal((TaskState.Assigned, TaskState.Running, agentId), (history[2].From, history[2].To, history[2].Actor));
        Assert.Equal((TaskState.Running, TaskState.Completed, agentId), (history[3].From, history[3].To, history[3].FromAgent));
        await Eventually.ReturnsAsync(() => fixture.Client.GetGrain<IAgentGrain>(agentId).GetAsync(), a => a!.ActiveTaskIds.Count == 0,
            TimeSpan.FromSeconds(10), "the agent to release the completed task");
    }

    [SkippableFact]
    public async Task A_completion_contradicting_the_stored_one_is_a_conflict_and_changes_nothing()
    {
        SkipWithoutCluster();
        var (running, agentId) = await RunningAsync();
        var grain = Tasks.Grain(running.Id);
        var completed = await grain.CompleteAsync(agentId, """{"answer":42}""", null);

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => grain.CompleteAsync(agentId, """{"answer":43}""", null));
        var failure = await Assert.ThrowsAsync<ConflictException>(() => grain.FailAsync(agentId, "it broke after all"));

        Assert.Equal("conflict", conflict.Code);
        Assert.Contains(running.Id, conflict.Message, StringComparison.Ordinal);
        Assert.Contains("""{"answer":43}""", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("completed", failure.Message, StringComparison.Ordinal);
        var after = await Tasks.GetAsync(running.Id);
        Assert.Equal((completed.Version, TaskState.Completed, """{"answer":42}"""), (after.Version, after.State, after.ResultJson));
        Assert.Single(await Tasks.HistoryAsync(running.Id), e => e.Action == TaskAction.Completed);
    }

    [SkippableFact]
    public async Task A_repeated_failure_report_changes_nothing_and_a_contradicting_one_is_a_conflict()
    {
        SkipWithoutCluster();
        var (running, agentId) = await RunningAsync(s => s with { MaxAttempts = 1 });
        var grain = Tasks.Grain(running.Id);
        var failed = await grain.FailAsync(agentId, "disk full");

        var repeated = await grain.FailAsync(agentId, "disk full");
        var conflict = await Assert.ThrowsAsync<ConflictException>(() => grain.FailAsync(agentId, "network down"));
        var completion = await Assert.ThrowsAsync<InvalidTransitionException>(() => grain.CompleteAsync(agentId, "null", null));

        Assert.Equal((TaskState.Failed, failed.Version), (repeated.State, repeated.Version));
        Assert.Contains("disk full", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("network down", conflict.Message, StringComparison.Ordinal);
        Assert.Contains(running.Id, completion.Message, StringComparison.Ordinal);
        Assert.Equal((failed.Version, "disk full"), ((await Tasks.GetAsync(running.Id)).Version, (await Tasks.GetAsync(running.Id)).Error));
    }

    [SkippableFact]
    public async Task Reassign_moves_the_task_and_records_from_to_and_why()
    {
        SkipWithoutCluster();
        var (assigned, first) = await AssignedAsync();
        var capability = assigned.Spec.RequiredCapabilities![0];
        var (second, _) = await Agents.RegisterAsync(TestAgents.Registration([capability], 5));
        await Tasks.Grain(assigned.Id).StartAsync(first);

        var moved = await Tasks.Grain(assigned.Id).ReassignAsync(second, "first agent is too slow", "operator");

        Assert.Equal((TaskState.Assigned, second, (DateTimeOffset?)null), (moved.State, moved.AssignedTo, moved.StartedAt));
        var reassigned = (await Tasks.HistoryAsync(assigned.Id))[^1];
        Assert.Equal(
            (TaskAction.Reassigned, TaskState.Running, TaskState.Assigned, first, second, "first agent is too slow", "operator"),
            (reassigned.Action, reassigned.From, reassigned.To, reassigned.FromAgent, reassigned.ToAgent, reassigned.Reason, reassigned.Actor));
        var agentsNow = await Eventually.ReturnsAsync(
            async () => (await fixture.Client.GetGrain<IAgentGrain>(first).GetAsync(), await fixture.Client.GetGrain<IAgentGrain>(second).GetAsync()),
            a => a.Item1!.ActiveTaskIds.Count == 0, TimeSpan.FromSeconds(10), "the first agent to release the task");
        Assert.Contains(assigned.Id, agentsNow.Item2!.ActiveTaskIds);
        await Assert.ThrowsAsync<InvalidTransitionException>(() => Tasks.Grain(assigned.Id).StartAsync(first));
        Assert.Equal(TaskState.Running, (await Tasks.Grain(assigned.Id).StartAsync(second)).State);
    }

    [SkippableFact]
    public async Task Reassign_to_an_agent_that_cannot_take_the_task_is_a_conflict_and_changes_nothing()
    {
        SkipWithoutCluster();
        var (assigned, _) = await AssignedAsync();
        var grain = Tasks.Grain(assigned.Id);
        var nobody = $"agent-{Guid.NewGuid():N}";

        var error = await Assert.ThrowsAsync<ConflictException>(() => grain.ReassignAsync(nobody, "try", "operator"));
        var unassigned = await UnassignableAsync();
        var assignError = await Assert.ThrowsAsync<ConflictException>(() => Tasks.Grain(unassigned.Id).AssignAsync(nobody, "operator"));

        Assert.Equal($"agent {nobody} cannot take task {assigned.Id}: not registered, not accepting work, missing capabilities or at capacity", error.Message);
        Assert.Contains(nobody, assignError.Message, StringComparison.Ordinal);
        Assert.Equal(assigned.Version, (await grain.GetAsync())!.Version);
        Assert.Equal(unassigned.Version, (await Tasks.GetAsync(unassigned.Id)).Version);
    }

    [SkippableFact]
    public async Task Unassign_puts_a_running_task_back_to_pending_and_releases_the_agent()
    {
        SkipWithoutCluster();
        var (running, agentId) = await RunningAsync();

        var pending = await Tasks.Grain(running.Id).UnassignAsync("agent asked to drop it", "operator");

        Assert.Equal((TaskState.Pending, (string?)null, (DateTimeOffset?)null), (pending.State, pending.AssignedTo, pending.StartedAt));
        var unassigned = (await Tasks.HistoryAsync(running.Id)).Single(e => e.Action == TaskAction.Unassigned);
        Assert.Equal((TaskState.Running, TaskState.Pending, agentId, "agent asked to drop it", "operator"),
            (unassigned.From, unassigned.To, unassigned.FromAgent, unassigned.Reason, unassigned.Actor));

        // Ready again: the dispatcher hands it back out.
        await Tasks.WaitAsync(running.Id, t => t.State == TaskState.Assigned, "the task to be dispatched again");
    }

    [SkippableFact]
    public async Task Cancel_from_any_open_state_records_the_reason_a_repeat_changes_nothing_and_nothing_else_is_accepted()
    {
        SkipWithoutCluster();
        var pending = await Tasks.CreateAsync(TestTasks.Spec(TestTasks.NewCapability()));
        var (running, agentId) = await RunningAsync();

        var cancelledPending = await Tasks.Grain(pending.Id).CancelAsync("no longer wanted", "operator");
        var cancelledRunning = await Tasks.Grain(running.Id).CancelAsync("customer withdrew", "operator");

        Assert.Equal(TaskState.Cancelled, cancelledPending.State);
        Assert.NotNull(cancelledRunning.FinishedAt);
        var last = (await Tasks.HistoryAsync(running.Id))[^1];
        Assert.Equal((TaskAction.Cancelled, TaskState.Running, TaskState.Cancelled, "customer withdrew", agentId),
            (last.Action, last.From, last.To, last.Reason, last.FromAgent));

        // A repeated cancel (a client retrying after a lost answer) returns the task as it is and records nothing.
        var again = await Tasks.Grain(running.Id).CancelAsync("again", "operator");
        Assert.Equal((TaskState.Cancelled, cancelledRunning.Version, cancelledRunning.FinishedAt), (again.State, again.Version, again.FinishedAt));
        var history = await Tasks.HistoryAsync(running.Id);
        Assert.Equal((TaskAction.Cancelled, "customer withdrew"), (history[^1].Action, history[^1].Reason));
        Assert.Single(history, e => e.Action == TaskAction.Cancelled);

        // Anything else is refused on a finished task, with what it was and what was asked.
        var refused = await Assert.ThrowsAsync<InvalidTransitionException>(() => Tasks.Grain(running.Id).UnassignAsync("again", "operator"));
        Assert.Contains("Cancelled", refused.Message, StringComparison.Ordinal);
        Assert.Contains(running.Id, refused.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Update_merges_metadata_and_changes_only_what_is_given()
    {
        SkipWithoutCluster();
        var created = await UnassignableAsync(TestTasks.Spec(TestTasks.NewCapability()) with
        {
            Metadata = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" },
        });

        var updated = await Tasks.Grain(created.Id).UpdateAsync(
            new TaskUpdate(Priority: TaskPriority.Critical, Metadata: new Dictionary<string, string> { ["b"] = "3", ["c"] = "4" }), "operator");
        var unchanged = await Tasks.Grain(created.Id).UpdateAsync(new TaskUpdate(Priority: TaskPriority.Critical), "operator");

        Assert.Equal(TaskPriority.Critical, updated.Spec.Priority);
        Assert.Equal(created.Spec.Name, updated.Spec.Name);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "3", ["c"] = "4" }, updated.Spec.Metadata);
        Assert.Equal(updated.Version, unchanged.Version);
        var entry = (await Tasks.HistoryAsync(created.Id))[^1];
        Assert.Equal((TaskAction.Updated, "changed priority, metadata"), (entry.Action, entry.Reason));
    }

    public static TheoryData<TaskState, string> IllegalTransitions()
    {
        string[] actions = ["assign", "start", "complete", "fail", "unassign", "reassign", "cancel", "update"];
        var legal = new Dictionary<TaskState, string[]>
        {
            [TaskState.Pending] = ["assign", "cancel", "update"],
            [TaskState.Assigned] = ["start", "unassign", "reassign", "cancel", "update"],
            [TaskState.Running] = ["complete", "fail", "unassign", "reassign", "cancel", "update"],
            [TaskState.Completed] = [],
            [TaskState.Failed] = [],
            [TaskState.Cancelled] = ["cancel"], // a repeat: it returns the task unchanged (tested above)
        };
        var data = new TheoryData<TaskState, string>();
        foreach (var (state, allowed) in legal)
        {
            foreach (var action in actions.Except(allowed))
            {
                data.Add(state, action);
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(IllegalTransitions))]
    public async Task An_illegal_transition_is_refused_and_changes_nothing(TaskState from, string action)
    {
        SkipWithoutCluster();
        var (id, holder) = await TaskInStateAsync(from);
        var grain = Tasks.Grain(id);
        var before = await Tasks.GetAsync(id);
        var historyBefore = (await grain.GetHistoryAsync(0, 1)).Total;
        var agent = holder ?? $"agent-{Guid.NewGuid():N}";
        var other = $"agent-{Guid.NewGuid():N}";

        var error = await Assert.ThrowsAsync<InvalidTransitionException>(() => action switch
        {
            "assign" => grain.AssignAsync(other, "operator"),
            "start" => grain.StartAsync(agent),
            "complete" => grain.CompleteAsync(from == TaskState.Completed ? other : agent, "null", null),
            "fail" => grain.FailAsync(from is TaskState.Completed or TaskState.Failed ? other : agent, "boom"), // the holder's own: a repeat
            "unassign" => grain.UnassignAsync("why", "operator"),
            "reassign" => grain.ReassignAsync(other, "why", "operator"),
            "cancel" => grain.CancelAsync("why", "operator"),
            "update" => grain.UpdateAsync(new TaskUpdate(Name: "renamed"), "operator"),
            _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
        });

        Assert.Contains(id, error.Message, StringComparison.Ordinal);
        Assert.Contains(from.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(action, error.Message, StringComparison.Ordinal);
        var after = await Tasks.GetAsync(id);
        Assert.Equal((before.Version, before.State, before.AssignedTo, before.UpdatedAt), (after.Version, after.State, after.AssignedTo, after.UpdatedAt));
        Assert.Equal(historyBefore, (await grain.GetHistoryAsync(0, 1)).Total);
    }

    [SkippableFact]
    public async Task Only_the_holding_agent_can_start_complete_or_fail_the_task()
    {
        SkipWithoutCluster();
        var (assigned, agentId) = await AssignedAsync();
        var grain = Tasks.Grain(assigned.Id);
        var stranger = $"agent-{Guid.NewGuid():N}";

        var start = await Assert.ThrowsAsync<InvalidTransitionException>(() => grain.StartAsync(stranger));
        await grain.StartAsync(agentId);
        await Assert.ThrowsAsync<InvalidTransitionException>(() => grain.CompleteAsync(stranger, "null", null));
        await Assert.ThrowsAsync<InvalidTransitionException>(() => grain.FailAsync(stranger, "boom"));

        Assert.Contains(agentId, start.Message, StringComparison.Ordinal);
        Assert.Equal(TaskState.Running, (await grain.GetAsync())!.State);
    }

    [SkippableFact]
    public async Task A_failed_attempt_is_retried_with_doubling_back_off_until_attempts_run_out()
    {
        SkipWithoutCluster();
        var (running, agentId) = await RunningAsync(s => s with { MaxAttempts = 3, RetryBackoff = TimeSpan.FromSeconds(1) });
        var grain = Tasks.Grain(running.Id);

        var first = await grain.FailAsync(agentId, "boom 1");
        Assert.Equal((TaskState.Pending, 1, "boom 1"), (first.State, first.Attempt, first.Error));
        Assert.Equal(first.UpdatedAt + TimeSpan.FromSeconds(1), first.NextAttemptAt);
        var retry = (await Tasks.HistoryAsync(running.Id))[^1];
        Assert.Equal((TaskAction.RetryScheduled, TaskState.Running, TaskState.Pending, agentId), (retry.Action, retry.From, retry.To, retry.FromAgent));
        Assert.StartsWith("boom 1; attempt 1 of 3 failed, next attempt at ", retry.Reason, StringComparison.Ordinal);

        await Tasks.WaitAsync(running.Id, t => t.State == TaskState.Assigned, "the first retry to be dispatched after its back-off");
        await grain.StartAsync(agentId);
        var second = await grain.FailAsync(agentId, "boom 2");
        Assert.Equal(second.UpdatedAt + TimeSpan.FromSeconds(2), second.NextAttemptAt);

        await Tasks.WaitAsync(running.Id, t => t.State == TaskState.Assigned, "the second retry to be dispatched after its back-off");
        Assert.Equal(3, (await grain.StartAsync(agentId)).Attempt);
        var failed = await grain.FailAsync(agentId, "boom 3");

        Assert.Equal((TaskState.Failed, 3, "boom 3", (DateTimeOffset?)null), (failed.State, failed.Attempt, failed.Error, failed.NextAttemptAt));
        var history = await Tasks.HistoryAsync(running.Id);
        Assert.Equal("boom 3; no attempts left (3 of 3)", history[^1].Reason);
        Assert.Equal(TaskAction.Failed, history[^1].Action);

        // Each retry was dispatched only once its back-off was over.
        var assignedAt = history.Where(e => e.Action == TaskAction.Assigned).Skip(1).Select(e => e.At).ToArray();
        Assert.True(assignedAt[0] >= first.NextAttemptAt && assignedAt[1] >= second.NextAttemptAt, string.Join(", ", assignedAt));
    }

    [SkippableFact]
    public async Task A_running_task_past_its_timeout_is_retried_and_then_failed()
    {
        SkipWithoutCluster();
        var (running, agentId) = await RunningAsync(s => s with { Timeout = TimeSpan.FromSeconds(1), MaxAttempts = 2, RetryBackoff = TimeSpan.Zero });

        await Tasks.WaitAsync(running.Id, t => t.Attempt == 1 && t.State != TaskState.Running, "the first attempt to time out");
        var timedOut = (await Tasks.HistoryAsync(running.Id)).First(e => e.Action == TaskAction.TimedOut);
        Assert.Equal((TaskState.Running, TaskState.Pending, agentId), (timedOut.From, timedOut.To, timedOut.FromAgent));
        Assert.Equal("timed out after 1s; attempt 1 of 2 failed, next attempt now", timedOut.Reason);

        await Tasks.WaitAsync(running.Id, t => t.State == TaskState.Assigned, "the retry to be dispatched");
        await Tasks.Grain(running.Id).StartAsync(agentId);
        var failed = await Tasks.WaitAsync(running.Id, t => t.State == TaskState.Failed, "the second attempt to time out for good");

        Assert.Equal((2, "timed out after 1s"), (failed.Attempt, failed.Error));
        Assert.Equal((TaskAction.TimedOut, "timed out after 1s; no attempts left (2 of 2)"), ((await Tasks.HistoryAsync(running.Id))[^1].Action, (await Tasks.HistoryAsync(running.Id))[^1].Reason));
    }

    [SkippableFact]
    public async Task A_task_past_its_deadline_fails_with_the_reason()
    {
        SkipWithoutCluster();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(2);
        var created = await Tasks.CreateAsync(TestTasks.Spec(TestTasks.NewCapability()) with { Deadline = deadline });

        var failed = await Tasks.WaitAsync(created.Id, t => t.State == TaskState.Failed, "the deadline to pass");

        Assert.Equal($"deadline exceeded at {deadline:O}", failed.Error);
        Assert.True(failed.FinishedAt >= deadline);
        var entry = (await Tasks.HistoryAsync(created.Id))[^1];
        Assert.Equal((TaskAction.DeadlineExceeded, TaskState.Pending, TaskState.Failed), (entry.Action, entry.From, entry.To));
    }

    [SkippableFact]
    public async Task A_lost_agent_hands_its_running_task_back_for_a_retry()
    {
        SkipWithoutCluster();
        var (running, agentId) = await RunningAsync(s => s with { RetryBackoff = TimeSpan.FromMinutes(10) });

        await fixture.Client.GetGrain<IAgentGrain>(agentId).UnregisterAsync("shutting down");

        var pending = await Tasks.WaitAsync(running.Id, t => t.State == TaskState.Pending, "the task to come back");
        Assert.Equal((1, (string?)null), (pending.Attempt, pending.AssignedTo));
        Assert.True(pending.NextAttemptAt > pending.UpdatedAt);
        var lost = (await Tasks.HistoryAsync(running.Id))[^1];
        Assert.Equal((TaskAction.AgentLost, TaskState.Running, TaskState.Pending, agentId), (lost.Action, lost.From, lost.To, lost.FromAgent));
        Assert.Contains("shutting down", lost.Reason, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Unassignable_is_recorded_once_per_reason_and_cleared_on_assignment()
    {
        SkipWithoutCluster();
        var capability = TestTasks.NewCapability();
        var created = await Tasks.CreateAsync(TestTasks.Spec(capability));
        var grain = Tasks.Grain(created.Id);

        // The dispatcher says why it cannot place the task, once, however often it tries.
        var noted = await Tasks.WaitAsync(created.Id, t => t.UnassignableReason is not null, "the dispatcher to explain");
        await grain.NoteUnassignableAsync(noted.UnassignableReason!);
        Assert.Equal(noted.Version, (await grain.GetAsync())!.Version);
        Assert.Single(await Tasks.HistoryAsync(created.Id), e => e.Action == TaskAction.Unassignable);

        var (agentId, _) = await Agents.RegisterAsync(TestAgents.Registration([capability], 5));
        var assigned = await Tasks.WaitAsync(created.Id, t => t.State == TaskState.Assigned, "the task to be assigned");
        Assert.Equal((agentId, (string?)null), (assigned.AssignedTo, assigned.UnassignableReason));
    }

    [SkippableFact]
    public async Task The_dispatchers_note_costs_no_write_and_the_next_write_or_a_deactivation_stores_it()
    {
        SkipWithoutCluster();
        var rows = new GrainStateRows(fixture.Provider.ToDialect(), fixture.Properties["NOORG_STORAGE_CONNECTION_STRING"], "task");
        var capability = TestTasks.NewCapability();
        var created = await Tasks.CreateAsync(TestTasks.Spec(capability));
        var written = await rows.StoredVersionAsync(created.Id);

        var noted = await Tasks.WaitAsync(created.Id, t => t.UnassignableReason is not null, "the dispatcher to explain");
        Assert.Equal(written, await rows.StoredVersionAsync(created.Id));
        Assert.Equal(created.Version, noted.Version); // not a change of the task
        var seen = await Tasks.HistoryAsync(created.Id);
        Assert.Equal([(1L, TaskAction.Created), (2L, TaskAction.Unassignable)], seen.Select(e => (e.Sequence, e.Action)));

        // Deactivating stores it; the next activation reads it back from storage.
        await fixture.Cluster!.DeactivateAsync(Tasks.Grain(created.Id));
        Assert.Equal(written + 1, await rows.StoredVersionAsync(created.Id));
        Assert.Equal(noted.UnassignableReason, (await Tasks.GetAsync(created.Id)).UnassignableReason);
        Assert.Equal(seen.Select(e => (e.Sequence, e.Action, e.Reason)), (await Tasks.HistoryAsync(created.Id)).Select(e => (e.Sequence, e.Action, e.Reason)));

        // The next change numbers its entry after the note.
        await Tasks.Grain(created.Id).CancelAsync("done looking", TestTasks.Actor);
        Assert.Equal([1L, 2, 3], (await Tasks.HistoryAsync(created.Id)).Select(e => e.Sequence));
    }

    [SkippableFact]
    public async Task Time_outs_and_deadlines_are_stored_with_each_change_not_as_reminders()
    {
        SkipWithoutCluster();
        var rows = new GrainStateRows(fixture.Provider.ToDialect(), fixture.Properties["NOORG_STORAGE_CONNECTION_STRING"], "task");
        var deadline = DateTimeOffset.UtcNow.AddHours(1);
        var (assigned, agentId) = await AssignedAsync(s => s with { Timeout = TimeSpan.FromMinutes(30), Deadline = deadline });
        Assert.Equal(TruncatedToMicroseconds(deadline), await DueAtAsync(assigned.Id));
        var written = await rows.StoredVersionAsync(assigned.Id);

        var running = await Tasks.Grain(assigned.Id).StartAsync(agentId);

        Assert.Equal(written + 1, await rows.StoredVersionAsync(assigned.Id)); // the start is one write, with its due time
        Assert.Equal(running.StartedAt!.Value.AddMinutes(30), await DueAtAsync(assigned.Id));
        Assert.Equal(0, await RemindersOfAsync(assigned.Id));

        await Tasks.Grain(assigned.Id).CompleteAsync(agentId, "{}", null);
        Assert.Null(await DueAtAsync(assigned.Id));
        Assert.Equal(0, await RemindersOfAsync(assigned.Id));
    }

    [SkippableFact]
    public async Task A_time_out_fires_when_the_task_is_not_active_from_its_due_shard()
    {
        SkipWithoutCluster();
        var (running, _) = await RunningAsync(s => s with { Timeout = TimeSpan.FromSeconds(2), MaxAttempts = 1 });

        // No activation holds a timer any more: only a due shard can notice the time-out. Nothing below calls the task.
        await fixture.Cluster!.DeactivateAsync(Tasks.Grain(running.Id));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? state;
        while ((state = await IndexedStateAsync(running.Id)) != "failed" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal("failed", state);
        var failed = await Tasks.GetAsync(running.Id);
        Assert.Equal("timed out after 2s", failed.Error);
        Assert.True(failed.FinishedAt >= running.StartedAt!.Value.AddSeconds(2));
        Assert.Null(await DueAtAsync(running.Id));
    }

    private static DateTimeOffset TruncatedToMicroseconds(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    private async Task<T?> ScalarAsync<T>(string sql, string taskId, Func<object, T> read)
    {
        await using var connection = await StorageConnections.OpenAsync(
            fixture.Provider.ToDialect(), fixture.Properties["NOORG_STORAGE_CONNECTION_STRING"], CancellationToken.None);
        await using var command = connection.CreateCommand(null, sql);
        command.AddParameter("@id", taskId);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : read(value);
    }

    private Task<DateTimeOffset?> DueAtAsync(string taskId) =>
        ScalarAsync<DateTimeOffset?>("SELECT due_at FROM noorg_task_due WHERE task_id = @id", taskId, value => value switch
        {
            DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
            DateTimeOffset time => time.ToUniversalTime(),
            _ => DateTimeOffset.Parse((string)value, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal),
        });

    private Task<string?> IndexedStateAsync(string taskId) =>
        ScalarAsync("SELECT state FROM noorg_tasks WHERE id = @id", taskId, value => (string)value);

    private async Task<long> RemindersOfAsync(string taskId) =>
        await ScalarAsync("SELECT count(*) FROM orleans_reminders WHERE grain_id LIKE @id", "%" + taskId + "%",
            value => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));

    [SkippableFact]
    public async Task Purge_removes_only_finished_tasks()
    {
        SkipWithoutCluster();
        var created = await Tasks.CreateAsync(TestTasks.Spec(TestTasks.NewCapability()));
        var grain = Tasks.Grain(created.Id);

        Assert.False(await grain.PurgeAsync());
        await grain.CancelAsync("done with it", "operator");
        Assert.True(await grain.PurgeAsync());

        Assert.Null(await grain.GetAsync());
        await Assert.ThrowsAsync<NotFoundException>(() => grain.GetHistoryAsync(0, 10));
        await Assert.ThrowsAsync<NotFoundException>(() => grain.CancelAsync("again", "operator"));
        var listed = await fixture.Client.GetGrain<ITaskQueryGrain>(0).ListAsync(new TaskQuery(Types: [created.Spec.Type], CreatedAfter: created.CreatedAt, CreatedBefore: created.CreatedAt));
        Assert.DoesNotContain(listed.Items, t => t.Id == created.Id);
    }

    [SkippableFact]
    public async Task Every_change_is_pushed_to_a_watcher_of_the_task()
    {
        SkipWithoutCluster();
        var (id, grain) = Tasks.New();
        await using var watch = await NoOrg.Client.Watching.Watches.TaskAsync(fixture.Client, id); // live when it returns
        await grain.CreateAsync(TestTasks.Spec(TestTasks.NewCapability()), TestTasks.Actor);
        await grain.CancelAsync("seen enough", "operator");

        // Dispatch may note that no agent can take the task between the two: every change is pushed, in order.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<TaskEvent> { await watch.ReadAsync(patience.Token) };
        while (seen[^1].Action != TaskAction.Cancelled)
        {
            seen.Add(await watch.ReadAsync(patience.Token));
        }

        Assert.Equal((TaskAction.Created, 1L), (seen[0].Action, seen[0].Sequence));
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (long)i), seen.Select(e => e.Sequence));
        Assert.All(seen.Skip(1).SkipLast(1), e => Assert.Equal(TaskAction.Unassignable, e.Action));
        Assert.InRange(seen.Count, 2, 3);
    }

    [SkippableFact]
    public async Task Listing_reads_its_own_writes_from_the_index()
    {
        SkipWithoutCluster();
        var type = $"type-{Guid.NewGuid():N}";
        var capability = TestTasks.NewCapability();
        var low = await Tasks.CreateAsync(TestTasks.Spec(capability, type, TaskPriority.Low));
        var high = await Tasks.CreateAsync(TestTasks.Spec(capability, type, TaskPriority.High));
        await Tasks.Grain(low.Id).CancelAsync("not needed", "operator");
        var queries = fixture.Client.GetGrain<ITaskQueryGrain>(0);

        var all = await queries.ListAsync(new TaskQuery(Types: [type]));
        var pending = await queries.ListAsync(new TaskQuery(Types: [type], States: [TaskState.Pending]));
        var page = await queries.ListAsync(new TaskQuery(Types: [type], Take: 1));

        Assert.Equal([low.Id, high.Id], all.Items.Select(t => t.Id));
        Assert.Equal(2, all.Total);
        Assert.Equal(TaskState.Cancelled, all.Items[0].State);
        var only = Assert.Single(pending.Items);
        Assert.Equal((high.Id, TaskPriority.High, high.CreatedAt), (only.Id, only.Priority, only.CreatedAt));
        Assert.Equal((1, 2L, true), (page.Items.Count, page.Total, page.HasMore));
        await Assert.ThrowsAsync<ValidationException>(() => queries.ListAsync(new TaskQuery(Take: 0)));
    }

    /// <summary>A task of this test in <paramref name="state"/>, and the agent holding it (if any).</summary>
    private async Task<(string Id, string? Holder)> TaskInStateAsync(TaskState state)
    {
        switch (state)
        {
            case TaskState.Pending:
                return ((await UnassignableAsync()).Id, null);
            case TaskState.Cancelled:
                var cancelled = await Tasks.CreateAsync(TestTasks.Spec(TestTasks.NewCapability()));
                await Tasks.Grain(cancelled.Id).CancelAsync("set up", "operator");
                return (cancelled.Id, null);
            case TaskState.Assigned:
                var (assigned, holder) = await AssignedAsync();
                return (assigned.Id, holder);
            case TaskState.Running:
                var (running, runner) = await RunningAsync();
                return (running.Id, runner);
            case TaskState.Completed:
                var (done, finisher) = await RunningAsync();
                await Tasks.Grain(done.Id).CompleteAsync(finisher, "null", null);
                return (done.Id, finisher);
            case TaskState.Failed:
                var (failing, failer) = await RunningAsync(s => s with { MaxAttempts = 1 });
                await Tasks.Grain(failing.Id).FailAsync(failer, "set up");
                return (failing.Id, failer);
            default:
                throw new ArgumentOutOfRangeException(nameof(state), state, null);
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteTaskLifecycleTests(SqliteClusterFixture fixture) : TaskLifecycleTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresTaskLifecycleTests(PostgresClusterFixture fixture) : TaskLifecycleTests(fixture);
