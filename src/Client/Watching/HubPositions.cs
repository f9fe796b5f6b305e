using NoOrg.Grains.Watching;

namespace NoOrg.Client.Watching;

/// <summary>
/// Where a watcher of all entities stands at each hub. Pushes may arrive out of order, so a number that is skipped
/// is given <see cref="Patience"/> to turn up before it counts as missed; a hub with a new epoch was restarted
/// (its silo stopped, or it was idle and collected), and whatever it passed on in between is unknown.
/// </summary>
internal sealed class HubPositions
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, Position> hubs = new(StringComparer.Ordinal);

    public void Start(WatchPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        hubs[point.Source] = new Position(point.Epoch, point.Number);
    }

    /// <summary>A change arrived: deliver it unless it is a duplicate; a gap when something is now known to be lost.</summary>
    public HubVerdict Pushed(WatchPoint point, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (!hubs.TryGetValue(point.Source, out var at))
        {
            Start(point);
            return new HubVerdict(true, null);
        }

        if (point.Epoch != at.Epoch)
        {
            return Restarted(point);
        }

        bool deliver;
        if (point.Number > at.Number)
        {
            for (var n = at.Number + 1; n < point.Number; n++)
            {
                at.Missing.TryAdd(n, now);
            }

            at.Number = point.Number;
            deliver = true;
        }
        else
        {
            deliver = at.Missing.Remove(point.Number); // a late arrival; otherwise a duplicate
        }

        return new HubVerdict(deliver, Overdue(point.Source, at, now));
    }

    /// <summary>A renewal answered where the hub stands: numbers up to it that never arrived are owed.</summary>
    public HubVerdict Renewed(WatchPoint point, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (!hubs.TryGetValue(point.Source, out var at))
        {
            Start(point);
            return new HubVerdict(false, null);
        }

        if (point.Epoch != at.Epoch)
        {
            return Restarted(point);
        }

        for (var n = at.Number + 1; n <= point.Number; n++)
        {
            at.Missing.TryAdd(n, now);
        }

        at.Number = Math.Max(at.Number, point.Number);
        return new HubVerdict(false, Overdue(point.Source, at, now));
    }

    private static HubVerdict Restarted(WatchPoint point) =>
        new(false, $"watch hub {point.Source} was restarted (its silo stopped, or it moved): changes it passed on in between were not seen");

    private static string? Overdue(string source, Position at, DateTimeOffset now)
    {
        var lost = at.Missing.Count(m => now - m.Value >= Patience);
        return lost == 0 ? null : $"{lost} change(s) pushed by watch hub {source} did not arrive within {Patience.TotalSeconds:0} s";
    }

    private sealed class Position(Guid epoch, long number)
    {
        public Guid Epoch { get; } = epoch;

        public long Number { get; set; } = number;

        public Dictionary<long, DateTimeOffset> Missing { get; } = [];
    }
}

internal readonly record struct HubVerdict(bool Deliver, string? Gap);
