using System.Text.Json;
using NoOrg.Client.Sagas;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Workers;
using static NoOrg.Tests.Sagas.SagaTestSiloConfigurator;

namespace NoOrg.Tests.Sagas;

/// <summary>Steps and compensations run as NoOrg tasks by a real agent worker: the saga waits for each task's outcome.</summary>
public abstract class SagaTaskStepTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [SkippableFact]
    public async Task A_task_step_runs_on_an_agent_and_its_task_compensation_runs_when_a_later_step_fails()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var worker = await TestWorker.StartAsync(fixture.Client, "saga-agent-" + Guid.NewGuid().ToString("N")[..8], [TaskCapability], 2);
        var client = fixture.Client;

        var passing = await client.StartSagaAsync(WithTask, new TestSagaInput("task-ok-" + Guid.NewGuid().ToString("N")[..8]).ToJson());
        var done = await Eventually.ReturnsAsync(() => client.GetGrain<ISagaGrain>(passing.Id).GetAsync(), s => s!.Status == SagaStatus.Completed, Wait, "the saga to complete");
        using (var output = JsonDocument.Parse(done!.Outputs["t2"]))
        {
            // The echo task returns its input: the saga, the step, and s1's output the coordinator handed on.
            Assert.Equal(passing.Id, output.RootElement.GetProperty("saga").GetString());
            Assert.Equal("t2", output.RootElement.GetProperty("step").GetString());
            Assert.False(output.RootElement.GetProperty("compensation").GetBoolean());
            Assert.True(output.RootElement.GetProperty("outputs").TryGetProperty("s1", out _));
        }

        var stepTask = await client.GetGrain<ITaskGrain>(Assert.Single(worker.Handler.Ran)).GetAsync();
        Assert.Equal(TaskState.Completed, stepTask!.State);
        Assert.Equal(worker.AgentId, stepTask.AssignedTo);

        var failing = await client.StartSagaAsync(WithTask, new TestSagaInput("task-fail-" + Guid.NewGuid().ToString("N")[..8], FailAt: "s3").ToJson());
        var compensated = await Eventually.ReturnsAsync(() => client.GetGrain<ISagaGrain>(failing.Id).GetAsync(), s => s!.Status == SagaStatus.Compensated, Wait, "the saga to compensate");
        Assert.Equal("s3", compensated!.FailedStep);
        var log = (await client.GetGrain<ISagaGrain>(failing.Id).GetLogAsync(0, 1000)).Items;
        Assert.Equal(["t2", "s1"], log.Where(e => e.Action == SagaLogAction.Compensated).Select(e => e.StepId!));

        // Three tasks in all: the first saga's step, the second saga's step and that step's compensation.
        var tasks = await Task.WhenAll(worker.Handler.Ran.Select(id => client.GetGrain<ITaskGrain>(id).GetAsync()));
        Assert.Equal(3, tasks.Length);
        var undo = Assert.Single(tasks, t => t!.Spec.Name.EndsWith("(compensation)", StringComparison.Ordinal));
        Assert.Equal(failing.Id, undo!.Spec.Metadata!["saga"]);
        Assert.Equal(TaskState.Completed, undo.State);
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteSagaTaskStepTests(SqliteClusterFixture fixture) : SagaTaskStepTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresSagaTaskStepTests(PostgresClusterFixture fixture) : SagaTaskStepTests(fixture);
