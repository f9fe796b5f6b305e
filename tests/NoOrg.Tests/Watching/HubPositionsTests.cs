using NoOrg.Client.Watching;
using NoOrg.Grains.Watching;

namespace NoOrg.Tests.Watching;

public sealed class HubPositionsTests
{
    private static readonly Guid Epoch = Guid.NewGuid();
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

    private static WatchPoint At(long number, Guid? epoch = null) => new("hub/3", epoch ?? Epoch, number);

    [Fact]
    public void Changes_in_order_are_delivered_once()
    {
        var hubs = new HubPositions();
        hubs.Start(At(10));
        Assert.Equal(new HubVerdict(true, null), hubs.Pushed(At(11), T0));
        Assert.Equal(new HubVerdict(true, null), hubs.Pushed(At(12), T0));
        Assert.Equal(new HubVerdict(false, null), hubs.Pushed(At(12), T0)); // a duplicate
        Assert.Equal(new HubVerdict(false, null), hubs.Renewed(At(12), T0.AddSeconds(30)));
    }

    [Fact]
    public void A_change_that_arrives_late_within_the_patience_is_delivered_and_no_gap_is_reported()
    {
        var hubs = new HubPositions();
        hubs.Start(At(0));
        Assert.Equal(new HubVerdict(true, null), hubs.Pushed(At(2), T0));
        Assert.Equal(new HubVerdict(true, null), hubs.Pushed(At(1), T0.AddSeconds(1)));
        Assert.Equal(new HubVerdict(false, null), hubs.Pushed(At(1), T0.AddSeconds(1)));
        Assert.Null(hubs.Renewed(At(2), T0.AddMinutes(1)).Gap);
    }

    [Fact]
    public void A_change_that_never_arrives_is_a_gap_after_the_patience()
    {
        var hubs = new HubPositions();
        hubs.Start(At(0));
        Assert.Null(hubs.Pushed(At(2), T0).Gap);
        Assert.Null(hubs.Pushed(At(3), T0 + HubPositions.Patience - TimeSpan.FromMilliseconds(1)).Gap);
        var verdict = hubs.Pushed(At(4), T0 + HubPositions.Patience);
        Assert.True(verdict.Deliver);
        Assert.Contains("1 change(s)", verdict.Gap, StringComparison.Ordinal);
    }

    [Fact]
    public void A_renewal_ahead_of_what_arrived_owes_the_difference()
    {
        var hubs = new HubPositions();
        hubs.Start(At(5));
        Assert.Null(hubs.Renewed(At(7), T0).Gap);
        Assert.True(hubs.Pushed(At(6), T0.AddSeconds(1)).Deliver);
        Assert.Contains("1 change(s)", hubs.Renewed(At(7), T0 + HubPositions.Patience).Gap, StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_epoch_is_a_gap()
    {
        var hubs = new HubPositions();
        hubs.Start(At(5));
        Assert.Contains("restarted", hubs.Renewed(At(0, Guid.NewGuid()), T0).Gap, StringComparison.Ordinal);
        Assert.Contains("restarted", hubs.Pushed(At(1, Guid.NewGuid()), T0).Gap, StringComparison.Ordinal);
    }
}
