using NoOrg.Client.Sagas;
using NoOrg.Configuration;
using NoOrg.Grains.Sagas;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NoOrg.Tests.Sagas;

/// <summary>
/// The silo hosting a saga's coordinator is killed while a step runs: the saga finishes on the survivor, resumed by
/// its reminder (or by the step reporting back), and every step's effect is applied exactly once.
/// </summary>
[Collection(PostgresCluster.Name)]
public sealed class SagaFailoverTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_saga_whose_coordinator_silo_is_killed_mid_step_finishes_on_the_survivor_with_each_effect_once()
    {
        await OwnCluster.RunAsync(StorageProvider.Postgres, new Dictionary<string, string> { ["NOORG_SAGAS_RESUME_PERIOD_SECONDS"] = "2" }, async cluster =>
        {
            // A saga id whose coordinator lives on the secondary silo, so the client's gateway (the primary) survives.
            // Under load the secondary can take a while to be offered new activations after the cluster starts: keep looking.
            var secondary = cluster.SecondarySilos[0];
            var management = cluster.Client.GetGrain<IManagementGrain>(0);
            string? sagaId = null;
            var looking = System.Diagnostics.Stopwatch.StartNew();
            while (sagaId is null && looking.Elapsed < TimeSpan.FromSeconds(60))
            {
                var candidate = SagaClientExtensions.NewSagaId();
                var grain = cluster.Client.GetGrain<ISagaGrain>(candidate);
                await grain.GetAsync();
                if (await management.GetActivationAddress(grain) == secondary.SiloAddress)
                {
                    sagaId = candidate;
                }
            }

            Assert.NotNull(sagaId);
            var scope = "effects-" + Guid.NewGuid().ToString("N");
            var effects = cluster.Client.GetGrain<ISagaEffectsGrain>(scope);
            var input = new TestSagaInput(scope, DelayMs: new Dictionary<string, int> { ["s2"] = 3000 });
            await cluster.Client.StartSagaAsync(SagaTestSiloConfigurator.Hold, input.ToJson(), sagaId);
            await Eventually.ReturnsAsync(effects.GetAsync, e => e.CallsOf("do:s2") >= 1, TimeSpan.FromSeconds(30), "s2 to be running");

            await cluster.KillSiloAsync(secondary);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var saga = await Eventually.ReturnsAsync(
                async () =>
                {
                    try
                    {
                        return await cluster.Client.GetGrain<ISagaGrain>(sagaId).GetAsync();
                    }
                    catch (Exception e) when (e is OrleansException or TimeoutException)
                    {
                        return null; // the silo is not yet declared dead
                    }
                },
                s => s is { IsTerminal: true },
                TimeSpan.FromMinutes(2), "the saga to finish on the survivor");

            Assert.Equal(SagaStatus.Completed, saga!.Status);
            var applied = (await effects.GetAsync()).Applied;
            Assert.Equal(["do:s1", "do:s2", "do:s3", "do:s4"], applied);
            var where = await management.GetActivationAddress(cluster.Client.GetGrain<ISagaGrain>(sagaId));
            Assert.NotEqual(secondary.SiloAddress, where);
            var calls = (await effects.GetAsync()).CallsOf("do:s2");
            output.WriteLine($"saga finished {clock.Elapsed.TotalSeconds:F1}s after the kill; s2 ran {calls} time(s), applied once");
        });
    }
}
