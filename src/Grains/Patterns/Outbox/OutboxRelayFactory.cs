using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using Orleans.Configuration;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// Makes the <see cref="OutboxRelay"/> a grain embeds. The grain passes its state name (registered with
/// <c>AddOutboxHost</c>: its rows are filed under it) and how to read and replace the <see cref="OutboxState"/>
/// inside its state.
/// </summary>
public sealed class OutboxRelayFactory
{
    private readonly OutboxRegistry registry;
    private readonly SqlOutboxStore store;
    private readonly OutboxAcknowledgements acknowledgements;
    private readonly OutboxTargets targets;
    private readonly NoOrgSettings settings;
    private readonly string serviceId;
    private readonly TimeProvider clock;
    private readonly ILoggerFactory loggers;

    internal OutboxRelayFactory(
        OutboxRegistry registry, SqlOutboxStore store, OutboxAcknowledgements acknowledgements, OutboxTargets targets, NoOrgSettings settings,
        IOptions<ClusterOptions> cluster, TimeProvider clock, ILoggerFactory loggers)
    {
        this.registry = registry;
        this.store = store;
        this.acknowledgements = acknowledgements;
        this.targets = targets;
        this.settings = settings;
        serviceId = cluster.Value.ServiceId;
        this.clock = clock;
        this.loggers = loggers;
    }

    public OutboxRelay Create(Grain host, string stateName, Func<OutboxState> read, Action<OutboxState> apply)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (!registry.HostStateNames.Contains(stateName))
        {
            // The sweeper could not turn this grain's rows back into the grain after a crash.
            throw new InvalidOperationException(
                $"{host.GetType().Name} embeds an outbox under state name '{stateName}', which is not registered: call AddOutboxHost at silo start.");
        }

        var owner = new OutboxOwner(serviceId, stateName, host.GetPrimaryKeyString());
        return new OutboxRelay(host, owner, read, apply, store, acknowledgements, targets, settings.Outbox, clock, loggers.CreateLogger<OutboxRelay>());
    }
}
