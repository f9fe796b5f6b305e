using NoOrg.Client.Sagas;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Sagas;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using static NoOrg.Tests.Sagas.SagaTestSiloConfigurator;

namespace NoOrg.Tests.Sagas;

/// <summary>
/// Sagas on real grains in the shared two-silo clusters: the effects the steps report (through a durable effects
/// grain per saga) and the coordinator's log must tell the same story, in the same order.
/// </summary>
public abstract class SagaTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private IClusterClient Client => fixture.Client;

    private void SkipWithoutCluster() => Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));

    [SkippableFact]
    public async Task Happy_path_runs_every_step_once_in_order_and_completes()
    {
        SkipWithoutCluster();
        var (saga, effects, log) = await RunAsync(Chain, scope => new TestSagaInput(scope));

        Assert.Equal(SagaStatus.Completed, saga.Status);
        Assert.Equal(["do:s1", "do:s2", "do:s3", "do:s4"], effects.Applied);
        Assert.All(saga.Steps, s => Assert.Equal(SagaStepPhase.Succeeded, s.Phase));
        Assert.Equal("{\"step\":\"s3\"}", saga.Outputs["s3"]);
        foreach (var step in new[] { "s1", "s2", "s3", "s4" })
        {
            Assert.Equal(1, effects.CallsOf("do:" + step));
            Assert.True(Index(log, SagaLogAction.StepStarted, step) < Index(log, SagaLogAction.StepSucceeded, step));
        }

        Assert.Equal(SagaLogAction.SagaCompleted, log[^1].Action);
        Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (long)i), log.Select(e => e.Sequence));
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task A_step_failing_for_good_compensates_the_completed_steps_in_exactly_reverse_order(int k)
    {
        SkipWithoutCluster();
        var failing = "s" + k;
        var (saga, effects, log) = await RunAsync(Chain, scope => new TestSagaInput(scope, FailAt: failing));

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal(failing, saga.FailedStep);
        var done = Enumerable.Range(1, k - 1).Select(i => "s" + i).ToArray();
        Assert.Equal([.. done.Select(s => "do:" + s), .. done.Reverse().Select(s => "undo:" + s)], effects.Applied);
        Assert.Equal(3, effects.CallsOf("do:" + failing)); // every attempt of its retry policy
        Assert.Equal(done.Reverse(), log.Where(e => e.Action == SagaLogAction.Compensated).Select(e => e.StepId!));
        Assert.Equal(SagaLogAction.SagaCompensated, log[^1].Action);
        Assert.DoesNotContain(log, e => e.Action == SagaLogAction.CompensationStarted && e.StepId == failing);
    }

    [SkippableFact]
    public async Task Transient_failures_are_retried_and_the_effect_applies_once()
    {
        SkipWithoutCluster();
        var (saga, effects, log) = await RunAsync(Chain, scope => new TestSagaInput(scope, FailTimes: new Dictionary<string, int> { ["s2"] = 2 }));

        Assert.Equal(SagaStatus.Completed, saga.Status);
        Assert.Equal(3, saga.Steps.Single(s => s.StepId == "s2").Attempt);
        Assert.Equal(3, effects.CallsOf("do:s2"));
        Assert.Equal(["do:s1", "do:s2", "do:s3", "do:s4"], effects.Applied);
        Assert.Equal([1, 2], log.Where(e => e.Action == SagaLogAction.StepRetryScheduled && e.StepId == "s2").Select(e => e.Attempt));
    }

    [SkippableFact]
    public async Task A_step_that_times_out_is_abandoned_and_retried()
    {
        SkipWithoutCluster();
        var (saga, effects, log) = await RunAsync(Chain, scope => new TestSagaInput(scope, SlowOnce: "s2"));

        Assert.Equal(SagaStatus.Completed, saga.Status);
        Assert.Equal(2, saga.Steps.Single(s => s.StepId == "s2").Attempt);
        var timedOut = Assert.Single(log, e => e.Action == SagaLogAction.StepRetryScheduled && e.StepId == "s2");
        Assert.Contains("timed out", timedOut.Detail, StringComparison.Ordinal);
        Assert.Equal(["do:s1", "do:s2", "do:s3", "do:s4"], effects.Applied);
    }

    [SkippableFact]
    public async Task A_step_timing_out_on_every_attempt_fails_for_good_and_compensates()
    {
        SkipWithoutCluster();
        var (saga, effects, log) = await RunAsync(Chain, scope => new TestSagaInput(scope, DelayMs: new Dictionary<string, int> { ["s3"] = 60_000 }));

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal("s3", saga.FailedStep);
        Assert.Contains("timed out", saga.Error, StringComparison.Ordinal);
        Assert.Equal(["do:s1", "do:s2", "undo:s2", "undo:s1"], effects.Applied);
        Assert.Single(log, e => e.Action == SagaLogAction.StepFailed && e.StepId == "s3");
    }

    [SkippableFact]
    public async Task A_parallel_group_runs_together_and_is_compensated_together()
    {
        SkipWithoutCluster();
        var (saga, effects, log) = await RunAsync(Grouped, scope => new TestSagaInput(scope, FailAt: "c"));

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        string[] group = ["b1", "b2", "b3"];
        Assert.Equal("do:a", effects.Applied[0]);
        Assert.Equal(group.Select(b => "do:" + b).Order(), effects.Applied.Skip(1).Take(3).Order());
        Assert.Equal(group.Select(b => "undo:" + b).Order(), effects.Applied.Skip(4).Take(3).Order());
        Assert.Equal("undo:a", effects.Applied[^1]);

        // Started together: every step of the group started before any of them succeeded; compensated likewise.
        var lastStart = group.Max(b => Index(log, SagaLogAction.StepStarted, b));
        Assert.True(lastStart < group.Min(b => Index(log, SagaLogAction.StepSucceeded, b)));
        var lastCompensationStart = group.Max(b => Index(log, SagaLogAction.CompensationStarted, b));
        Assert.True(lastCompensationStart < group.Min(b => Index(log, SagaLogAction.Compensated, b)));
        Assert.True(group.Max(b => Index(log, SagaLogAction.Compensated, b)) < Index(log, SagaLogAction.CompensationStarted, "a"));
    }

    [SkippableFact]
    public async Task A_step_failing_inside_a_parallel_group_compensates_its_completed_siblings_and_the_steps_before()
    {
        SkipWithoutCluster();
        var (saga, effects, _) = await RunAsync(Grouped, scope => new TestSagaInput(scope, FailAt: "b2"));

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal("b2", saga.FailedStep);
        Assert.Equal(["do:b1", "do:b3"], effects.Applied.Skip(1).Take(2).Order());
        Assert.Equal(["undo:b1", "undo:b3"], effects.Applied.Skip(3).Take(2).Order());
        Assert.Equal(["do:a", "undo:a"], [effects.Applied[0], effects.Applied[^1]]);
        Assert.Equal(6, effects.Applied.Count);
    }

    [SkippableFact]
    public async Task A_compensation_failing_for_good_stops_in_CompensationFailed_naming_the_step_until_retried()
    {
        SkipWithoutCluster();
        var scope = NewScope();
        var input = new TestSagaInput(scope, FailAt: "s3", CompensationFailTimes: new Dictionary<string, int> { ["s2"] = 3 });
        var started = await Client.StartSagaAsync(Chain, input.ToJson());
        var stuck = await Client.WaitForSagaAsync(started.Id);

        Assert.Equal(SagaStatus.CompensationFailed, stuck.Status);
        Assert.Equal("s2", stuck.FailedStep);
        Assert.Contains("compensation of s2 failed", stuck.Error, StringComparison.Ordinal);
        var effects = await Effects(scope);
        Assert.Equal(["do:s1", "do:s2"], effects.Applied); // s1 waits: nothing is compensated out of order
        Assert.Equal(3, effects.CallsOf("undo:s2"));
        await Assert.ThrowsAsync<InvalidTransitionException>(() => Client.GetGrain<ISagaGrain>(started.Id).CancelAsync("no"));

        await Client.GetGrain<ISagaGrain>(started.Id).RetryAsync("fixed by the test");
        var saga = await Client.WaitForSagaAsync(started.Id);

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal(["do:s1", "do:s2", "undo:s2", "undo:s1"], (await Effects(scope)).Applied);
        var log = await LogAsync(started.Id);
        Assert.True(Index(log, SagaLogAction.SagaCompensationFailed, "s2") < Index(log, SagaLogAction.RetryRequested, "s2"));
    }

    [SkippableFact]
    public async Task A_repeated_step_call_returns_the_recorded_outcome_without_repeating_the_effect()
    {
        SkipWithoutCluster();
        var (saga, _, _) = await RunAsync(Chain, scope => new TestSagaInput(scope));
        var scope = saga.InputJson;
        var step = Client.GetGrain<ISagaStepGrain>(SagaKeys.Action(saga.Id, "s2"));
        var recorded = await step.GetOutcomeAsync();
        Assert.True(recorded?.Succeeded);

        var outputs = saga.Outputs;
        await step.StartAsync(new SagaActionRequest(saga.Id, Chain, "s2", 1, saga.InputJson, outputs));
        await step.StartAsync(new SagaActionRequest(saga.Id, Chain, "s2", 2, saga.InputJson, outputs));

        // A run would have cleared the outcome before the call returned (the attempt is stored before it runs).
        Assert.Equal(recorded, await step.GetOutcomeAsync());
        var effects = await Effects(System.Text.Json.JsonSerializer.Deserialize<TestSagaInput>(scope, SagaKeys.Json)!.Scope);
        Assert.Equal(1, effects.CallsOf("do:s2"));
        Assert.Equal(1, effects.Applied.Count(a => a == "do:s2"));
        Assert.Equal(SagaStatus.Completed, (await Client.GetGrain<ISagaGrain>(saga.Id).GetAsync())!.Status);
    }

    [SkippableFact]
    public async Task Cancel_stops_a_running_saga_and_compensates_what_it_completed()
    {
        SkipWithoutCluster();
        var scope = NewScope();
        var started = await Client.StartSagaAsync(Hold, new TestSagaInput(scope, DelayMs: new Dictionary<string, int> { ["s2"] = 60_000 }).ToJson());
        var grain = Client.GetGrain<ISagaGrain>(started.Id);
        await Eventually.ReturnsAsync(() => Effects(scope), e => e.CallsOf("do:s2") == 1, Wait, "s2 to be running");

        await grain.CancelAsync("the customer changed their mind");
        var saga = await Client.WaitForSagaAsync(started.Id);

        Assert.Equal(SagaStatus.Cancelled, saga.Status);
        Assert.True(saga.CancelRequested);
        Assert.Equal(["do:s1", "undo:s1"], (await Effects(scope)).Applied);
        await Assert.ThrowsAsync<InvalidTransitionException>(() => grain.CancelAsync("again"));
    }

    [SkippableFact]
    public async Task A_repeated_start_returns_the_saga_and_a_different_one_is_a_conflict()
    {
        SkipWithoutCluster();
        var input = new TestSagaInput(NewScope()).ToJson();
        var id = SagaClientExtensions.NewSagaId();
        var first = await Client.StartSagaAsync(Chain, input, id);
        var again = await Client.StartSagaAsync(Chain, input, id);

        Assert.Equal(first.CreatedAt, again.CreatedAt);
        await Assert.ThrowsAsync<ConflictException>(() => Client.StartSagaAsync(Grouped, input, id));
        await Assert.ThrowsAsync<NotFoundException>(() => Client.StartSagaAsync("no-such-definition", input));
        await Assert.ThrowsAsync<ValidationException>(() => Client.StartSagaAsync(Chain, "{not json"));
        await Client.WaitForSagaAsync(id);
    }

    [SkippableFact]
    public async Task A_compensation_scope_aborts_in_reverse_order_and_commit_discards()
    {
        SkipWithoutCluster();
        var scope = NewScope();
        var aborted = await Client.BeginCompensationScopeAsync("booking");
        foreach (var work in new[] { "flight", "hotel", "car" })
        {
            await aborted.RecordAsync(work, Undo, new TestSagaInput(scope, Label: work).ToJson());
        }

        await aborted.RecordAsync("car", Undo, new TestSagaInput(scope, Label: "car").ToJson()); // idempotent
        await aborted.AbortAsync("payment declined");
        var saga = await Client.WaitForSagaAsync(aborted.Id);

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal(["undo:car", "undo:hotel", "undo:flight"], (await Effects(scope)).Applied);

        var committedScope = NewScope();
        var committed = await Client.BeginCompensationScopeAsync("booking");
        await committed.RecordAsync("flight", Undo, new TestSagaInput(committedScope, Label: "flight").ToJson());
        var done = await committed.CommitAsync();

        Assert.Equal(SagaStatus.Completed, done.Status);
        Assert.Empty((await Effects(committedScope)).Calls);
        await Assert.ThrowsAsync<InvalidTransitionException>(() => committed.RecordAsync("late", Undo, "{}"));
        var open = await Client.BeginCompensationScopeAsync("booking");
        await Assert.ThrowsAsync<NotFoundException>(() => open.RecordAsync("x", "no-such-handler", "{}"));
        await open.CommitAsync();
    }

    [SkippableFact]
    public async Task Sagas_are_listed_by_status_and_definition_and_counted_from_the_index()
    {
        SkipWithoutCluster();
        var (completed, _, _) = await RunAsync(Chain, scope => new TestSagaInput(scope));
        var (compensated, _, _) = await RunAsync(Chain, scope => new TestSagaInput(scope, FailAt: "s2"));
        var queries = Client.GetGrain<ISagaQueryGrain>(0);

        var done = await queries.ListAsync(new SagaQuery(SagaStatus.Completed, Chain, 0, 1000));
        var undone = await queries.ListAsync(new SagaQuery(SagaStatus.Compensated, Chain, 0, 1000));
        Assert.Contains(done.Items, s => s.Id == completed.Id && s.FinishedAt is not null);
        Assert.DoesNotContain(done.Items, s => s.Id == compensated.Id);
        Assert.Contains(undone.Items, s => s.Id == compensated.Id && s.FailedStep == "s2");

        var stats = await queries.StatisticsAsync();
        Assert.True(stats.ByStatus[SagaStatus.Completed] >= 1 && stats.ByStatus[SagaStatus.Compensated] >= 1);
        Assert.True(stats.ByDefinition[Chain] >= 2);
        Assert.NotNull(stats.MedianDuration);
        Assert.Contains(await queries.DefinitionsAsync(), d => d.Name == DemoOrderSaga.Name && d.Steps.Count == 4);
    }

    [SkippableFact]
    public async Task The_demo_order_failing_at_ship_compensates_charge_payment_then_reserve_stock()
    {
        SkipWithoutCluster();
        var started = await Client.StartSagaAsync(DemoOrderSaga.Name, """{"failAt":"ship"}""");
        var saga = await Client.WaitForSagaAsync(started.Id);
        var log = await LogAsync(started.Id);

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal("ship", saga.FailedStep);
        Assert.Equal(["charge-payment", "reserve-stock"], log.Where(e => e.Action == SagaLogAction.Compensated).Select(e => e.StepId!));
        Assert.Contains("refunded", log.First(e => e.Action == SagaLogAction.Compensated).Detail, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Two_hundred_concurrent_sagas_with_random_failures_all_end_with_effects_and_compensations_balanced()
    {
        SkipWithoutCluster();
        var random = new Random(5);
        string?[] failAt = [null, "s1", "s2", "s3", "s4"];
        var runs = Enumerable.Range(0, 200).Select(_ => (Scope: NewScope(), FailAt: failAt[random.Next(failAt.Length)])).ToArray();
        // Starts go out 10 at a time (each returns once its first step is asked for); all 200 then run at once. A start
        // that times out on a loaded machine is sent again under the same id, which returns the same saga.
        using var starting = new SemaphoreSlim(10);
        var sagas = await Task.WhenAll(runs.Select(async r =>
        {
            await starting.WaitAsync();
            try
            {
                var id = SagaClientExtensions.NewSagaId();
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        return await Client.StartSagaAsync(Chain, new TestSagaInput(r.Scope, r.FailAt).ToJson(), id);
                    }
                    catch (TimeoutException) when (attempt < 5)
                    {
                    }
                }
            }
            finally
            {
                starting.Release();
            }
        }));

        var ended = await Eventually.ReturnsAsync(
            async () => new Progress(await Task.WhenAll(sagas.Select(s => Client.GetGrain<ISagaGrain>(s.Id).GetAsync()))),
            p => p.Sagas.All(s => s!.IsTerminal),
            TimeSpan.FromMinutes(5), "all 200 sagas to end");

        // Under load an attempt may time out after its effect went through: then the step counts as failed, may be
        // retried, and is compensated even when it fails for good. Whatever happened, the books must balance.
        int completed = 0, compensated = 0;
        foreach (var ((scope, failing), saga) in runs.Zip(ended.Sagas))
        {
            var effects = await Effects(scope);
            var done = effects.Applied.Where(a => a.StartsWith("do:", StringComparison.Ordinal)).Select(a => a[3..]).ToArray();
            var undone = effects.Applied.Where(a => a.StartsWith("undo:", StringComparison.Ordinal)).Select(a => a[5..]).ToArray();
            var balanced = saga!.Status switch
            {
                SagaStatus.Completed => failing is null && done.SequenceEqual(["s1", "s2", "s3", "s4"]) && undone.Length == 0,
                SagaStatus.Compensated => effects.Applied.SequenceEqual([.. done.Select(d => "do:" + d), .. done.Reverse().Select(d => "undo:" + d)])
                    && (saga.FailedStep != failing || done.SequenceEqual(Enumerable.Range(1, int.Parse(failing![1..], System.Globalization.CultureInfo.InvariantCulture) - 1).Select(i => "s" + i))),
                _ => false,
            };
            if (!balanced)
            {
                var log = await LogAsync(saga.Id);
                throw new Xunit.Sdk.XunitException(
                    $"saga {saga.Id} failing at {failing ?? "-"}: {saga.Status}, applied [{string.Join(", ", effects.Applied)}], " +
                    $"calls [{string.Join(", ", effects.Calls.Select(c => $"{c.Key}={c.Value}"))}], log:\n" +
                    string.Join("\n", log.Select(e => $"{e.Sequence} {e.Action} {e.Status} {e.StepId} #{e.Attempt} {e.Detail}")));
            }

            completed += saga.Status == SagaStatus.Completed ? 1 : 0;
            compensated += saga.Status == SagaStatus.Compensated ? 1 : 0;
        }

        Assert.Equal(runs.Length, completed + compensated);
        Assert.True(completed <= runs.Count(r => r.FailAt is null));
        Assert.True(compensated >= runs.Count(r => r.FailAt is not null));
    }

    private async Task<(SagaSnapshot Saga, SagaEffects Effects, IReadOnlyList<SagaLogEntry> Log)> RunAsync(
        string definition, Func<string, TestSagaInput> input)
    {
        var scope = NewScope();
        var started = await Client.StartSagaAsync(definition, input(scope).ToJson());
        using var timeout = new CancellationTokenSource(Wait);
        var saga = await Client.WaitForSagaAsync(started.Id, timeout.Token);
        return (saga, await Effects(scope), await LogAsync(started.Id));
    }

    private Task<SagaEffects> Effects(string scope) => Client.GetGrain<ISagaEffectsGrain>(scope).GetAsync();

    private async Task<IReadOnlyList<SagaLogEntry>> LogAsync(string sagaId) =>
        (await Client.GetGrain<ISagaGrain>(sagaId).GetLogAsync(0, 1000)).Items;

    private static int Index(IReadOnlyList<SagaLogEntry> log, SagaLogAction action, string stepId)
    {
        var entry = log.FirstOrDefault(e => e.Action == action && e.StepId == stepId)
            ?? throw new Xunit.Sdk.XunitException($"no {action} entry for {stepId} in the log");
        return log.ToList().IndexOf(entry);
    }

    /// <summary>What is still running, for the failure message.</summary>
    private sealed record Progress(SagaSnapshot?[] Sagas)
    {
        public override string ToString() => string.Join("; ", Sagas.Where(s => s is { IsTerminal: false }).Take(5).Select(s =>
            $"{s!.Id} {s.Status} [{string.Join(", ", s.Steps.Select(p => $"{p.StepId}:{p.Phase}/{p.Attempt}/{p.CompensationAttempt}"))}]"))
            + $" ({Sagas.Count(s => s is { IsTerminal: false })} not ended)";
    }

    private static string NewScope() => "effects-" + Guid.NewGuid().ToString("N");
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteSagaTests(SqliteClusterFixture fixture) : SagaTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresSagaTests(PostgresClusterFixture fixture) : SagaTests(fixture);
