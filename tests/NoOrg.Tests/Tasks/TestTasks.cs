using System.Collections.Concurrent;
using NoOrg.Configuration;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Tasks;

/// <summary>
/// Tasks one test creates, under fresh ids; those still open when the test ends are cancelled, so they do not
/// linger in a shared cluster's dispatch queue.
/// </summary>
public sealed class TestTasks(IClusterClient client) : IAsyncDisposable
{
    public const string Actor = "test";

    private readonly ConcurrentBag<string> ids = [];

    public static string NewCapability() => $"cap-{Guid.NewGuid():N}";

    /// <summary>A spec only agents with <paramref name="capability"/> can take.</summary>
    public static TaskSpec Spec(string capability, string type = "test-task", TaskPriority priority = TaskPriority.Medium) =>
        new("a task under test", type, InputJson: """{"n":1}""", Priority: priority, RequiredCapabilities: [capability]);

    public ITaskGrain Grain(string id) => client.GetGrain<ITaskGrain>(id);

    public (string Id, ITaskGrain Grain) New()
    {
        var id = $"task-{Guid.NewGuid():N}";
        ids.Add(id);
        return (id, Grain(id));
    }

    public Task<TaskSnapshot> CreateAsync(TaskSpec spec) => New().Grain.CreateAsync(spec, Actor);

    public async Task<TaskSnapshot> GetAsync(string id) =>
        await Grain(id).GetAsync() ?? throw new Xunit.Sdk.XunitException($"task {id} does not exist");

    public async Task<TaskSnapshot> WaitAsync(string id, Func<TaskSnapshot, bool> condition, string what, int seconds = 30) =>
        (await Eventually.ReturnsAsync(() => Grain(id).GetAsync(), t => t is not null && condition(t), TimeSpan.FromSeconds(seconds), what))!;

    public async Task<IReadOnlyList<TaskEvent>> HistoryAsync(string id) => (await Grain(id).GetHistoryAsync(0, 1000)).Items;

    public async ValueTask DisposeAsync()
    {
        foreach (var id in ids)
        {
            try
            {
                if (await Grain(id).GetAsync() is { IsTerminal: false })
                {
                    await Grain(id).CancelAsync("test finished", Actor);
                }
            }
            catch (Exception)
            {
                // Best effort: the cluster may already be gone, or the task moved on meanwhile.
            }
        }
    }
}

/// <summary>A two-silo cluster of its own on a fresh database, for tests that count everything or restart the cluster.</summary>
public sealed class FreshCluster : IAsyncDisposable
{
    private readonly IAsyncDisposable database;

    private FreshCluster(IAsyncDisposable database, StorageProvider provider, string connectionString, Dictionary<string, string> properties)
    {
        this.database = database;
        Provider = provider;
        ConnectionString = connectionString;
        Properties = properties;
    }

    public StorageProvider Provider { get; }

    public string ConnectionString { get; }

    public Dictionary<string, string> Properties { get; }

    public TestCluster? Cluster { get; private set; }

    public IClusterClient Client => (Cluster ?? throw new InvalidOperationException("the cluster is stopped")).Client;

    /// <summary>Null when the provider's database is not available here (the caller skips).</summary>
    public static async Task<FreshCluster?> StartAsync(StorageProvider provider, IReadOnlyDictionary<string, string>? settings = null)
    {
        if (await ClusterDatabases.CreateAsync(provider) is not { } created)
        {
            return null;
        }

        var properties = NoOrgTestCluster.SettingsFor(created.Provider, created.ConnectionString);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            properties[key] = value;
        }

        var fresh = new FreshCluster(created.Database, created.Provider, created.ConnectionString, properties);
        await fresh.StartAsync();
        return fresh;
    }

    public async Task StartAsync() => Cluster = await NoOrgTestCluster.StartAsync(Properties);

    public async Task StopAsync()
    {
        if (Cluster is { } cluster)
        {
            Cluster = null;
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await database.DisposeAsync();
    }
}
