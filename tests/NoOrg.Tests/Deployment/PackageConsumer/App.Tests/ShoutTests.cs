using App;
using NoOrg.Client.Tasks;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;
using NoOrg.Testing;
using Xunit;

namespace App.Tests;

public sealed class Cluster : NoOrgClusterFixture, IAsyncLifetime;

public sealed class ShoutTests(Cluster cluster) : IClassFixture<Cluster>
{
    [Fact]
    public async Task A_shout_task_goes_to_the_shouter_and_keeps_its_result()
    {
        var client = cluster.Client;
        await client.GetGrain<IAgentGrain>("shouter-1").RegisterAsync(ShoutHandler.Registration);
        var task = await client.CreateTaskAsync(ShoutHandler.Task("quiet"), "test");
        var grain = client.GetGrain<ITaskGrain>(task.Id);
        for (var i = 0; i < 150 && task.AssignedTo is null; i++)
        {
            await Task.Delay(100);
            task = (await grain.GetAsync())!;
        }

        Assert.Equal("shouter-1", task.AssignedTo);
        await grain.StartAsync("shouter-1");
        var result = await new ShoutHandler().HandleAsync(task, CancellationToken.None);
        var done = await grain.CompleteAsync("shouter-1", result, null);
        Assert.Equal(TaskState.Completed, done.State);
        Assert.Equal("\"QUIET\"", done.ResultJson);
    }
}
