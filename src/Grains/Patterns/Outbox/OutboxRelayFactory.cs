using Microsoft.Extensions.Logging;
using NoOrg.Configuration;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// Makes the <see cref="OutboxRelay"/> a grain embeds. The grain passes how to read and replace the
/// <see cref="OutboxState"/> inside its state, and how to write its state (its own write, with its own error handling).
/// </summary>
public sealed class OutboxRelayFactory
{
    private readonly OutboxTargets targets;
    private readonly NoOrgSettings settings;
    private readonly TimeProvider clock;
    private readonly ILoggerFactory loggers;

    internal OutboxRelayFactory(OutboxTargets targets, NoOrgSettings settings, TimeProvider clock, ILoggerFactory loggers)
    {
        this.targets = targets;
        this.settings = settings;
        this.clock = clock;
        this.loggers = loggers;
    }

    public OutboxRelay Create(Grain host, Func<OutboxState> read, Action<OutboxState> apply, Func<Task> write)
    {
        ArgumentNullException.ThrowIfNull(host);
        return new OutboxRelay(host, read, apply, write, targets, settings.Outbox, clock, loggers.CreateLogger<OutboxRelay>());
    }
}
