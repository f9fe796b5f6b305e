using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;
using NoOrg.Silo.Workers;

namespace NoOrg.Tests.Workers;

/// <summary>The silo-side session of an HTTP worker and the attempt rule of its reports, without a cluster.</summary>
public sealed class HttpWorkerSessionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 5, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_pushed_task_waits_for_the_next_poll_once_and_a_poll_without_one_ends_empty_after_its_wait()
    {
        var session = new HttpWorkerSession("agent-a", "w-1", Now);
        var task = Task("t-1", TaskState.Assigned, "agent-a", attempt: 0);
        await session.TaskAssigned(task);
        session.Offer(task); // the same task again (a reconnect sends what the agent holds): queued once

        Assert.Same(task, await session.NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Null(await session.NextAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        Assert.Equal(0, session.WaitingPolls);
    }

    [Fact]
    public async Task A_waiting_poll_gets_a_task_pushed_while_it_waits_and_skips_what_the_worker_already_runs_or_another_agent_holds()
    {
        var session = new HttpWorkerSession("agent-a", "w-1", Now);
        session.Runs("t-running", 1);
        var waiting = session.NextAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, session.WaitingPolls);

        session.Offer(Task("t-running", TaskState.Running, "agent-a", attempt: 1));   // the attempt it runs
        session.Offer(Task("t-running", TaskState.Assigned, "agent-a", attempt: 0));  // the same attempt before its start
        session.Offer(Task("t-other", TaskState.Assigned, "agent-b", attempt: 0));    // not this agent's
        session.Offer(Task("t-done", TaskState.Completed, "agent-a", attempt: 1));    // finished
        var fresh = Task("t-new", TaskState.Assigned, "agent-a", attempt: 0);
        session.Offer(fresh);

        Assert.Same(fresh, await waiting);
        Assert.Equal(["t-running"], session.RunningIds);

        // A later attempt of the task it ran is new work; once reported, the task is no longer running here.
        var retry = Task("t-running", TaskState.Assigned, "agent-a", attempt: 1);
        session.Offer(retry);
        Assert.Same(retry, await session.NextAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
        session.Done("t-running");
        Assert.Empty(session.RunningIds);
    }

    [Fact]
    public async Task Closing_a_session_ends_its_waiting_poll_empty()
    {
        var session = new HttpWorkerSession("agent-a", "w-1", Now);
        var waiting = session.NextAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        session.Close();
        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        session.Offer(Task("t-late", TaskState.Assigned, "agent-a", attempt: 0));
        Assert.Null(await session.NextAsync(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public void A_report_of_another_attempt_or_by_another_agent_is_refused_and_a_repeated_start_is_recognised()
    {
        var running = Task("t-1", TaskState.Running, "agent-a", attempt: 2);
        AttemptRule.EnsureCurrent(running, "agent-a", 2, "completion");
        AttemptRule.EnsureRunning(running, "agent-a", 2);

        var stale = Assert.Throws<InvalidTransitionException>(() => AttemptRule.EnsureCurrent(running, "agent-a", 1, "completion"));
        Assert.Contains("the completion of attempt 1 by agent agent-a is refused", stale.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidTransitionException>(() => AttemptRule.EnsureCurrent(running, "agent-b", 2, "failure"));
        Assert.Throws<InvalidTransitionException>(() => AttemptRule.EnsureRunning(running with { State = TaskState.Completed }, "agent-a", 2));

        Assert.True(AttemptRule.IsRepeatedStart(running, "agent-a", 1));
        Assert.True(AttemptRule.IsRepeatedStart(running, "agent-a", null));
        Assert.False(AttemptRule.IsRepeatedStart(running, "agent-a", 2));
        Assert.False(AttemptRule.IsRepeatedStart(running, "agent-b", 1));
        Assert.False(AttemptRule.IsRepeatedStart(running with { State = TaskState.Assigned }, "agent-a", 1));
        Assert.NotNull(AttemptRule.Problem("attempt", -1));
        Assert.Null(AttemptRule.Problem("attempt", null));
    }

    private static TaskSnapshot Task(string id, TaskState state, string agentId, int attempt) => new(
        id, new TaskSpec("n", "t"), state, agentId, attempt, Now, Now, null, null, null, null, null, null, [], null, 1);
}
