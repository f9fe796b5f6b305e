using NoOrg.Silo.Hosting;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Errors;

/// <summary>A test grain whose state lives on a database of its own, which a test can make refuse connections.</summary>
[Alias("noorg.tests.outage-probe")]
public interface IOutageProbeGrain : IGrainWithStringKey
{
    [Alias("get")] Task<int> GetAsync();
}

[GenerateSerializer, Alias("noorg.tests.outage-probe-state")]
public sealed record OutageProbeState
{
    [Id(0)] public int Value { get; init; }
}

public sealed class OutageProbeGrain(
    [PersistentState("probe", OutageProbeStorage.Name)] IPersistentState<OutageProbeState> state) : Grain, IOutageProbeGrain
{
    public Task<int> GetAsync() => Task.FromResult(state.State.Value);
}

/// <summary>
/// Adds the probe's storage provider, the way a silo adds its own, when the cluster's settings name its PostgreSQL
/// database under <see cref="ConnectionStringKey"/>; other clusters do without it.
/// </summary>
[TestSiloExtension]
public sealed class OutageProbeStorage : ISiloConfigurator
{
    public const string Name = "outage-probe";
    public const string ConnectionStringKey = "TEST_OUTAGE_PROBE_STORAGE";

    public void Configure(ISiloBuilder siloBuilder)
    {
        if (siloBuilder.Configuration[ConnectionStringKey] is { Length: > 0 } connectionString)
        {
            siloBuilder.AddNoOrgGrainStorage(Name, OrleansInvariants.For(StorageDialect.Postgres), connectionString);
        }
    }
}
