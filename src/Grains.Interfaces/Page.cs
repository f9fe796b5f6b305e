namespace NoOrg.Grains;

/// <summary>One page of a longer list: the items, how many there are in all, and where the next page starts.</summary>
[GenerateSerializer, Immutable, Alias("noorg.page`1")]
public sealed record Page<T>(IReadOnlyList<T> Items, long Total, int Skip)
{
    public bool HasMore => Skip + Items.Count < Total;
}
