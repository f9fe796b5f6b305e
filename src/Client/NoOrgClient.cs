using NoOrg.Client.Agents;
using NoOrg.Client.Alerts;
using NoOrg.Client.Caching;
using NoOrg.Client.Health;
using NoOrg.Client.Sagas;
using NoOrg.Client.Tasks;
using NoOrg.Client.Throttling;
using NoOrg.Client.Webhooks;

namespace NoOrg.Client;

/// <summary>
/// Everything an app does with a NoOrg cluster, by area, with no grain keys or interfaces to know. Registered by
/// <see cref="ClientServiceCollectionExtensions.AddNoOrgClient(Microsoft.Extensions.DependencyInjection.IServiceCollection, NoOrg.Configuration.NoOrgSettings)"/>.
/// </summary>
public interface INoOrgClient
{
    TaskClient Tasks { get; }

    AgentClient Agents { get; }

    SagaClient Sagas { get; }

    HealthClient Health { get; }

    WebhookClient Webhooks { get; }

    LimitClient Limits { get; }

    AlertClient Alerts { get; }

    /// <summary>The cache named <paramref name="name"/> (created on first use).</summary>
    CacheClient Cache(string name);
}

/// <summary>Who an app's changes are recorded as in task histories and resolved issues.</summary>
public sealed class NoOrgClientOptions
{
    public string Actor { get; set; } = $"app:{Environment.UserName}";
}

internal sealed class NoOrgClient(IClusterClient client, Microsoft.Extensions.Options.IOptions<NoOrgClientOptions> options) : INoOrgClient
{
    public TaskClient Tasks { get; } = new(client, options.Value.Actor);

    public AgentClient Agents { get; } = new(client);

    public SagaClient Sagas { get; } = new(client);

    public HealthClient Health { get; } = new(client, options.Value.Actor);

    public WebhookClient Webhooks { get; } = new(client);

    public LimitClient Limits { get; } = new(client);

    public AlertClient Alerts { get; } = new(client, options.Value.Actor);

    public CacheClient Cache(string name) => new(client, Grains.InputText.RequireId("cache", name));
}

/// <summary>The typed client over a cluster client an app already has (a TestingHost cluster's, a co-hosted client's).</summary>
public static class NoOrgClientExtensions
{
    public static INoOrgClient AsNoOrgClient(this IClusterClient client, string? actor = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        var options = new NoOrgClientOptions();
        if (actor is not null)
        {
            options.Actor = actor;
        }

        return new NoOrgClient(client, Microsoft.Extensions.Options.Options.Create(options));
    }
}
