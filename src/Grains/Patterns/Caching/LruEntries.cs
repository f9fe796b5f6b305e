namespace NoOrg.Grains.Patterns.Caching;

/// <summary>
/// Entries in recency order with a size bound: a read or write moves an entry to the front, and adding beyond the
/// capacity drops the entry at the back, the least recently used. Not thread-safe (a grain turn owns it).
/// </summary>
internal sealed class LruEntries(int capacity)
{
    private readonly Dictionary<string, LinkedListNode<Entry>> index = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> order = new();

    public int Count => index.Count;

    public int Capacity => capacity;

    /// <summary>The entry, refreshed as most recently used, or null.</summary>
    public Entry? Touch(string key)
    {
        if (!index.TryGetValue(key, out var node))
        {
            return null;
        }

        order.Remove(node);
        order.AddFirst(node);
        return node.Value;
    }

    /// <summary>Stores the entry as most recently used; returns how many entries were evicted to make room.</summary>
    public int Put(string key, string value, DateTimeOffset expiresAt)
    {
        Remove(key);
        index[key] = order.AddFirst(new Entry(key, value, expiresAt));
        var evicted = 0;
        while (index.Count > capacity && order.Last is { } last)
        {
            Remove(last.Value.Key);
            evicted++;
        }

        return evicted;
    }

    public bool Remove(string key)
    {
        if (!index.Remove(key, out var node))
        {
            return false;
        }

        order.Remove(node);
        return true;
    }

    /// <summary>Removes every entry whose key matches; returns how many.</summary>
    public int RemoveWhere(Func<string, bool> match)
    {
        var keys = index.Keys.Where(match).ToArray();
        foreach (var key in keys)
        {
            Remove(key);
        }

        return keys.Length;
    }

    /// <summary>Removes every entry expired at <paramref name="now"/>; returns how many.</summary>
    public int RemoveExpired(DateTimeOffset now)
    {
        var expired = order.Where(e => e.ExpiresAt <= now).Select(e => e.Key).ToArray();
        foreach (var key in expired)
        {
            Remove(key);
        }

        return expired.Length;
    }

    public IReadOnlyList<string> KeysByRecency() => order.Select(e => e.Key).ToArray();

    public sealed record Entry(string Key, string Value, DateTimeOffset ExpiresAt);
}
