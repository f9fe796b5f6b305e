using System.Text.Json;
using Orleans.Serialization;
using Orleans.Storage;

namespace NoOrg.Silo.Hosting;

/// <summary>
/// The grain-state format of Orleans' own stream bookkeeping (<c>PubSubStore</c>): the Orleans binary serializer, which
/// round-trips its internal types (<c>PubSubGrainState</c> and its producer and consumer sets), wrapped in a one-field
/// JSON document because the grain-state column holds JSON. System.Text.Json cannot read those types back: every
/// watcher failed after a restart.
/// </summary>
internal sealed class StreamStateSerializer(Serializer serializer, ILogger<StreamStateSerializer> logger) : IGrainStorageSerializer
{
    private const string Field = "orleansBinary";

    private readonly OrleansGrainStorageSerializer binary = new(serializer);

    public BinaryData Serialize<T>(T? input)
    {
        var document = new Dictionary<string, byte[]> { [Field] = binary.Serialize(input).ToArray() };
        return BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(document));
    }

    public T Deserialize<T>(BinaryData input)
    {
        using var document = JsonDocument.Parse(input.ToMemory());
        if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(Field, out var payload))
        {
            return binary.Deserialize<T>(BinaryData.FromBytes(payload.GetBytesFromBase64()))
                ?? throw new JsonException($"stored {typeof(T).Name} is empty");
        }

        // A state written before this format (System.Text.Json, unreadable): start empty. Producers register again
        // with their next event and watchers subscribe again when they reconnect.
        logger.LogWarning("Discarded stream bookkeeping ({StateType}) stored in an older, unreadable format", typeof(T).Name);
        return (T)Activator.CreateInstance(typeof(T), nonPublic: true)!;
    }
}
