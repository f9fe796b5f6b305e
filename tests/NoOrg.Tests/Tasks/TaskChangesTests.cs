using NoOrg.Grains.Tasks;

namespace NoOrg.Tests.Tasks;

/// <summary>The lifecycle's decisions as pure code (<c>TaskChanges</c>), with no cluster: retries, time-outs, deadlines, lost agents, dependencies.</summary>
public sealed class TaskChangesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 2, 0, 0, TimeSpan.Zero);

    private static TaskSnapshot Task(
        TaskState state, int attempt = 0, string? agent = null, TimeSpan? timeout = null, int maxAttempts = 3, TimeSpan? backoff = null,
        DateTimeOffset? deadline = null, IReadOnlyList<string>? dependsOn = null, DateTimeOffset? startedAt = null) =>
        new("t-1", new TaskSpec("n", "type", Timeout: timeout, MaxAttempts: maxAttempts, RetryBackoff: backoff, Deadline: deadline, DependsOn: dependsOn),
            state, agent, attempt, T0, T0, startedAt, FinishedAt: null, NextAttemptAt: null, ResultJson: null, Error: null, ProcessingTime: null,
            WaitingOn: dependsOn ?? [], UnassignableReason: null, Version: 4);

    private static TaskChanges At(TaskSnapshot task, TimeSpan after) => new(task, T0 + after, Sequence: 9);

    [Fact]
    public void A_creation_says_what_the_task_waits_on_and_an_update_names_what_changed()
    {
        var waiting = Task(TaskState.Pending, dependsOn: ["t-0", "t-9"]);
        Assert.Equal((1L, TaskAction.Created, "waiting on t-0, t-9", "alice", T0), TaskChangesEntry(TaskChanges.Created(waiting, 1, "alice").Event));
        Assert.Null(TaskChanges.Created(Task(TaskState.Pending), 1, "alice").Event.Reason);

        var running = Task(TaskState.Running, 1, "agent-a", startedAt: T0);
        var (next, entry) = At(running, TimeSpan.FromSeconds(2)).Update(running.Spec with { Name = "renamed" }, ["name"], "bob");
        Assert.Equal(("renamed", TaskState.Running, 5, T0.AddSeconds(2)), (next.Spec.Name, next.State, next.Version, next.UpdatedAt));
        Assert.Equal((9L, TaskAction.Updated, "changed name", "bob", T0.AddSeconds(2)), TaskChangesEntry(entry));
        Assert.Equal((TaskState.Running, TaskState.Running), (entry.From, entry.To));
    }

    private static (long, TaskAction, string?, string, DateTimeOffset) TaskChangesEntry(TaskEvent e) => (e.Sequence, e.Action, e.Reason, e.Actor, e.At);

    [Fact]
    public void A_task_is_due_at_its_running_attempts_time_out_or_its_deadline_whichever_comes_first()
    {
        var deadline = T0.AddMinutes(10);
        var started = T0.AddMinutes(1);

        Assert.Null(TaskChanges.DueAt(Task(TaskState.Pending, timeout: TimeSpan.FromMinutes(1))));  // a time-out counts only while running
        Assert.Equal(deadline, TaskChanges.DueAt(Task(TaskState.Pending, deadline: deadline)));
        Assert.Equal(deadline, TaskChanges.DueAt(Task(TaskState.Assigned, agent: "a", timeout: TimeSpan.FromMinutes(1), deadline: deadline)));
        Assert.Equal(started.AddMinutes(2), TaskChanges.DueAt(Task(TaskState.Running, 1, "a", TimeSpan.FromMinutes(2), deadline: deadline, startedAt: started)));
        Assert.Equal(deadline, TaskChanges.DueAt(Task(TaskState.Running, 1, "a", TimeSpan.FromHours(1), deadline: deadline, startedAt: started)));
        Assert.Equal(started.AddHours(1), TaskChanges.DueAt(Task(TaskState.Running, 1, "a", TimeSpan.FromHours(1), startedAt: started)));
        Assert.Null(TaskChanges.DueAt(Task(TaskState.Running, 1, "a", startedAt: started)));
        Assert.Null(TaskChanges.DueAt(Task(TaskState.Failed, 1, timeout: TimeSpan.FromMinutes(1), deadline: deadline, startedAt: started)));
    }

    [Fact]
    public void What_is_due_is_the_time_out_first_then_the_deadline_and_nothing_before_either()
    {
        var running = Task(TaskState.Running, 1, "agent-a", TimeSpan.FromSeconds(30), deadline: T0.AddSeconds(20), startedAt: T0);

        Assert.Null(At(running, TimeSpan.FromSeconds(19)).Due(TimeSpan.Zero));
        Assert.Equal(TaskAction.DeadlineExceeded, At(running, TimeSpan.FromSeconds(20)).Due(TimeSpan.Zero)!.Value.Event.Action);
        var both = At(running, TimeSpan.FromSeconds(31)).Due(TimeSpan.Zero)!.Value;
        Assert.Equal((TaskAction.TimedOut, TaskState.Pending), (both.Event.Action, both.Next.State)); // an attempt is left: retried, the deadline comes next
        Assert.Equal(TaskAction.TimedOut, At(running, TimeSpan.FromSeconds(29.95)).Due(TimeSpan.FromMilliseconds(100))!.Value.Event.Action);
    }

    [Fact]
    public void A_failure_with_attempts_left_goes_back_to_pending_after_a_doubling_back_off()
    {
        var running = Task(TaskState.Running, attempt: 2, agent: "agent-a", backoff: TimeSpan.FromSeconds(3));

        var (next, entry) = At(running, TimeSpan.FromSeconds(10)).Fail("agent-a", "boom");

        Assert.Equal((TaskState.Pending, (string?)null, T0.AddSeconds(16), 5, T0.AddSeconds(10)), (next.State, next.AssignedTo, next.NextAttemptAt!.Value, next.Version, next.UpdatedAt));
        Assert.Equal((9L, TaskAction.RetryScheduled, TaskState.Running, TaskState.Pending, "agent-a", "agent-a"), (entry.Sequence, entry.Action, entry.From, entry.To, entry.Actor, entry.FromAgent));
        Assert.Equal("boom; attempt 2 of 3 failed, next attempt at 2026-12-04T02:00:16.0000000+00:00 (after 6s)", entry.Reason);
    }

    [Fact]
    public void The_last_attempts_failure_fails_the_task_for_good()
    {
        var (next, entry) = At(Task(TaskState.Running, attempt: 3, agent: "agent-a"), TimeSpan.FromSeconds(1)).Fail("agent-a", "boom");

        Assert.Equal((TaskState.Failed, T0.AddSeconds(1), "boom"), (next.State, next.FinishedAt!.Value, next.Error));
        Assert.Equal((TaskAction.Failed, "boom; no attempts left (3 of 3)"), (entry.Action, entry.Reason));
    }

    [Fact]
    public void A_lost_agent_costs_no_attempt_before_the_start_and_one_after_it()
    {
        var (assigned, notStarted) = At(Task(TaskState.Assigned, agent: "agent-a"), TimeSpan.Zero).AgentLost("agent-a", "silent");
        Assert.Equal((TaskState.Pending, 0, (DateTimeOffset?)null), (assigned.State, assigned.Attempt, assigned.NextAttemptAt));
        Assert.Equal("agent agent-a lost: silent; not started, back to pending", notStarted.Reason);

        var (running, retried) = At(Task(TaskState.Running, attempt: 1, agent: "agent-a"), TimeSpan.Zero).AgentLost("agent-a", "silent");
        Assert.Equal((TaskState.Pending, T0.AddSeconds(5)), (running.State, running.NextAttemptAt!.Value));
        Assert.Equal((TaskAction.AgentLost, "system"), (retried.Action, retried.Actor));
    }

    [Fact]
    public void A_time_out_is_due_only_once_the_attempt_has_run_its_time_less_the_tolerance()
    {
        var running = Task(TaskState.Running, attempt: 1, agent: "agent-a", timeout: TimeSpan.FromSeconds(30), startedAt: T0);
        var tolerance = TimeSpan.FromMilliseconds(100);

        Assert.Null(At(running, TimeSpan.FromSeconds(29.8)).TimeOut(tolerance));
        var due = At(running, TimeSpan.FromSeconds(29.95)).TimeOut(tolerance);
        Assert.Equal((TaskAction.TimedOut, TaskState.Pending), (due!.Value.Event.Action, due.Value.Next.State));
        Assert.StartsWith("timed out after 30s; attempt 1 of 3 failed", due.Value.Event.Reason, StringComparison.Ordinal);
        Assert.Null(At(running with { State = TaskState.Completed }, TimeSpan.FromMinutes(5)).TimeOut(tolerance));
    }

    [Fact]
    public void A_passed_deadline_fails_an_unfinished_task_whatever_attempts_remain()
    {
        var deadline = T0.AddMinutes(1);
        var running = Task(TaskState.Running, attempt: 1, agent: "agent-a", deadline: deadline);

        Assert.Null(At(running, TimeSpan.FromSeconds(59)).DeadlineExceeded());
        var (next, entry) = At(running, TimeSpan.FromSeconds(61)).DeadlineExceeded()!.Value;
        Assert.Equal((TaskState.Failed, TaskAction.DeadlineExceeded, "agent-a"), (next.State, entry.Action, entry.FromAgent));
        Assert.Null(At(running with { State = TaskState.Cancelled }, TimeSpan.FromMinutes(2)).DeadlineExceeded());
    }

    [Fact]
    public void Dependencies_release_the_task_when_they_complete_and_fail_it_when_they_do_not()
    {
        var waiting = Task(TaskState.Pending, dependsOn: ["t-a", "t-b"]);

        var satisfied = At(waiting, TimeSpan.Zero).DependencyFinished("t-a", TaskState.Completed)!.Value;
        Assert.Equal(["t-b"], satisfied.Next.WaitingOn);
        Assert.Equal((TaskAction.DependencySatisfied, TaskState.Pending), (satisfied.Event.Action, satisfied.Event.To));

        var failed = At(waiting, TimeSpan.Zero).DependencyFinished("t-b", TaskState.Cancelled)!.Value;
        Assert.Equal((TaskState.Failed, "dependency t-b was cancelled"), (failed.Next.State, failed.Next.Error));

        Assert.Null(At(waiting, TimeSpan.Zero).DependencyFinished("t-other", TaskState.Failed));
        Assert.Null(At(satisfied.Next, TimeSpan.Zero).DependencyFinished("t-a", TaskState.Completed)); // a repeated notice
    }

    [Fact]
    public void Completion_measures_from_the_attempts_start_unless_the_worker_says_and_the_holder_is_recorded()
    {
        var running = Task(TaskState.Running, attempt: 1, agent: "agent-a", startedAt: T0);

        var (measured, entry) = At(running, TimeSpan.FromSeconds(7)).Complete("agent-a", "{}", processingTime: null);
        Assert.Equal((TaskState.Completed, TimeSpan.FromSeconds(7), "agent-a"), (measured.State, measured.ProcessingTime!.Value, entry.FromAgent));
        Assert.Equal(TimeSpan.FromSeconds(2), At(running, TimeSpan.FromSeconds(7)).Complete("agent-a", "{}", TimeSpan.FromSeconds(2)).Next.ProcessingTime);

        var (cancelled, cancel) = At(running, TimeSpan.FromSeconds(1)).Cancel("no longer needed", "ops");
        Assert.Equal((TaskState.Cancelled, "agent-a", "ops"), (cancelled.State, cancel.FromAgent, cancel.Actor));
        Assert.Null(At(Task(TaskState.Pending), TimeSpan.Zero).Cancel("x", "ops").Event.FromAgent);
    }

    [Fact]
    public void Assignment_clears_the_dispatchers_reason_and_the_note_keeps_the_state()
    {
        var pending = Task(TaskState.Pending);
        var note = At(pending, TimeSpan.Zero).Unassignable("no agent has capability x");
        Assert.Equal((TaskAction.Unassignable, TaskState.Pending, TaskState.Pending, "dispatcher"), (note.Event.Action, note.Event.From, note.Event.To, note.Event.Actor));

        var (assigned, entry) = At(note.Next, TimeSpan.Zero).Assign("agent-b", "ops");
        Assert.Equal((TaskState.Assigned, "agent-b", (string?)null, "agent-b"), (assigned.State, assigned.AssignedTo, assigned.UnassignableReason, entry.ToAgent));
        Assert.Equal(1, At(assigned, TimeSpan.Zero).Start("agent-b").Next.Attempt);
    }
}
