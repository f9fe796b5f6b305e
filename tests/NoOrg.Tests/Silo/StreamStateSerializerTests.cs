using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NoOrg.Silo.Hosting;
using Orleans.Serialization;

namespace NoOrg.Tests.Silo;

/// <summary>The stored format of Orleans' stream bookkeeping: binary inside JSON, and older rows are dropped, not fatal.</summary>
public sealed class StreamStateSerializerTests
{
    private static StreamStateSerializer Create() =>
        new(new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>(), NullLogger<StreamStateSerializer>.Instance);

    [Fact]
    public void A_state_with_private_members_and_sets_round_trips_as_a_json_document()
    {
        var serializer = Create();
        var state = new BookkeepingProbe { Producers = { new ProducerProbe("noorg/tasks", 7) } };

        var stored = serializer.Serialize(state);

        using var document = System.Text.Json.JsonDocument.Parse(stored.ToMemory()); // the grain-state column holds JSON
        Assert.Equal(System.Text.Json.JsonValueKind.String, document.RootElement.GetProperty("orleansBinary").ValueKind);
        var read = serializer.Deserialize<BookkeepingProbe>(stored);
        Assert.Equal(new ProducerProbe("noorg/tasks", 7), Assert.Single(read.Producers));
    }

    [Fact]
    public void A_state_stored_in_the_older_json_format_reads_back_empty()
    {
        var read = Create().Deserialize<BookkeepingProbe>(BinaryData.FromString("""{"Producers":[{"Stream":["noorg",["noorg.tasks","*"]]}],"Consumers":[]}"""));

        Assert.Empty(read.Producers);
    }
}

[GenerateSerializer, Alias("NoOrg.Tests.BookkeepingProbe")]
public sealed class BookkeepingProbe
{
    [Id(0)]
    public HashSet<ProducerProbe> Producers { get; init; } = [];
}

/// <summary>Like Orleans' own producer state: no parameterless constructor, nothing System.Text.Json can bind.</summary>
[GenerateSerializer, Alias("NoOrg.Tests.ProducerProbe")]
public sealed class ProducerProbe(string stream, int version) : IEquatable<ProducerProbe>
{
    [Id(0)]
    private readonly string stream = stream;

    [Id(1)]
    private readonly int version = version;

    public bool Equals(ProducerProbe? other) => other is not null && other.stream == stream && other.version == version;

    public override bool Equals(object? obj) => Equals(obj as ProducerProbe);

    public override int GetHashCode() => HashCode.Combine(stream, version);
}
