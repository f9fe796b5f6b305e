using App;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoOrg.Client;
using NoOrg.Client.Tasks;
using NoOrg.Client.Workers;
using NoOrg.Configuration;
using NoOrg.Grains.Tasks;

// A worker and a task in one app: the worker registers as an agent, the task is dispatched to it.
var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddNoOrgSources();
builder.Services.AddNoOrgClient(builder.Configuration);
builder.Services.AddNoOrgWorker<ShoutHandler>(o =>
{
    o.AgentId = "consumer-" + Guid.NewGuid().ToString("N")[..8];
    o.Registration = ShoutHandler.Registration;
});
using var host = builder.Build();
await host.StartAsync();

var client = host.Services.GetRequiredService<IClusterClient>();
var task = await client.CreateTaskAsync(ShoutHandler.Task("hello from a package"), "consumer-app");
var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
while (!task.IsTerminal && DateTimeOffset.UtcNow < deadline)
{
    await Task.Delay(200);
    task = await client.GetGrain<ITaskGrain>(task.Id).GetAsync() ?? task;
}

Console.WriteLine($"task {task.Id} {task.State} by {task.AssignedTo}: {task.ResultJson}");
await host.StopAsync();
return task.State == TaskState.Completed ? 0 : 1;
