using System.Text.Json;
using Orleans.Streams;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// What the outbox needs to know about the grains and types that use it: which state name belongs to which
/// outbox-hosting grain (so the sweeper can turn a stored row back into a grain), and which payload types can be
/// published to streams (stored as JSON, published typed). Filled at silo start by <c>AddOutboxHost</c> and
/// <c>AddOutboxPayload</c>.
/// </summary>
public sealed class OutboxRegistry
{
    private readonly Dictionary<string, Func<IGrainFactory, string, IOutboxGrain>> hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<IStreamProvider, StreamId, string, Task>> payloads = new(StringComparer.Ordinal);

    /// <summary>Serializer options of every outbox payload: web defaults and enum names, so webhook bodies read like any JSON API.</summary>
    public static JsonSerializerOptions PayloadJson { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public IReadOnlyCollection<string> HostStateNames => hosts.Keys;

    /// <summary>
    /// Grains of <typeparamref name="TGrain"/> keep their state (with its <see cref="OutboxState"/>) under
    /// <paramref name="stateName"/>. String keys only: the stored row's key string is the grain key.
    /// </summary>
    public OutboxRegistry AddHost<TGrain>(string stateName) where TGrain : IOutboxGrain, IGrainWithStringKey
    {
        hosts.Add(stateName, (factory, key) => factory.GetGrain<TGrain>(key));
        return this;
    }

    /// <summary>Payloads named <paramref name="name"/> are <typeparamref name="T"/> in JSON, published to streams as <typeparamref name="T"/>.</summary>
    public OutboxRegistry AddPayload<T>(string name)
    {
        payloads.Add(name, (provider, stream, json) =>
            provider.GetStream<T>(stream).OnNextAsync(JsonSerializer.Deserialize<T>(json, PayloadJson)
                ?? throw new InvalidOperationException($"outbox payload {name} is null")));
        return this;
    }

    internal IOutboxGrain? Host(IGrainFactory factory, string stateName, string key) =>
        hosts.TryGetValue(stateName, out var host) ? host(factory, key) : null;

    internal Task PublishAsync(IStreamProvider provider, StreamId stream, OutboxMessage message) =>
        payloads.TryGetValue(message.PayloadType, out var publish)
            ? publish(provider, stream, message.PayloadJson)
            : throw new InvalidOperationException(
                $"outbox payload type '{message.PayloadType}' is not registered (AddOutboxPayload); it cannot go to a stream");
}
