namespace NoOrg.Grains.Tasks;

/// <summary>
/// Percentiles by the nearest-rank method: on n samples sorted ascending, the p-th percentile is the sample of
/// rank ceil(p/100 * n) (1-based). Always an observed value; the median of an even count is the lower middle one.
/// </summary>
internal static class NearestRank
{
    public static T Percentile<T>(IReadOnlyList<T> sortedAscending, int percent)
    {
        ArgumentNullException.ThrowIfNull(sortedAscending);
        ArgumentOutOfRangeException.ThrowIfZero(sortedAscending.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        var rank = ((percent * sortedAscending.Count) + 99) / 100;
        return sortedAscending[rank - 1];
    }
}
