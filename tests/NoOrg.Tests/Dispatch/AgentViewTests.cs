using NoOrg.Grains.Dispatch;

namespace NoOrg.Tests.Dispatch;

/// <summary>How a pool's view of the agents' room settles notices, refreshes and its own placements.</summary>
public sealed class AgentViewTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static AgentCapacity Notice(string id, int active, int max = 4, bool accepts = true, bool degraded = false, DateTimeOffset? at = null) =>
        new(id, ["cap"], active, max, accepts, degraded, at ?? T0);

    [Fact]
    public void The_least_loaded_agent_is_best_and_a_degraded_one_comes_last()
    {
        var view = new AgentView();
        view.Heard(Notice("a", active: 2));
        view.Heard(Notice("b", active: 1));
        view.Heard(Notice("c", active: 0, degraded: true));

        Assert.Equal("b", view.Best()!.Id);

        view.Heard(Notice("b", active: 4));
        Assert.Equal("a", view.Best()!.Id);
    }

    [Fact]
    public void A_placement_counts_a_slot_so_the_next_task_goes_to_the_other_agent()
    {
        var view = new AgentView();
        view.Heard(Notice("a", active: 0));
        view.Heard(Notice("b", active: 0));

        view.Placing(view.Best()!.Id);

        Assert.Equal("b", view.Best()!.Id);
    }

    [Fact]
    public void A_notice_sent_before_a_placement_still_in_flight_does_not_lower_its_count()
    {
        // The agent's registration notice travels one-way through the directory and can arrive while the first
        // placement on it is still being written: it cannot know of that placement.
        var view = new AgentView();
        view.Heard(Notice("a", active: 0));
        view.Heard(Notice("b", active: 0));
        view.Placing("a");

        view.Heard(Notice("a", active: 0));
        view.Placed("a", T0.AddSeconds(1));
        view.PlacementEnded("a");

        Assert.Equal(1, view.RoomOf("a")!.Active);
        Assert.Equal("b", view.Best()!.Id);
    }

    [Fact]
    public void A_notice_about_a_state_older_than_the_last_placement_can_raise_the_count_but_not_lower_it()
    {
        var view = new AgentView();
        view.Heard(Notice("a", active: 0));
        view.Placing("a");
        view.Placed("a", T0.AddSeconds(1));
        view.PlacementEnded("a");

        view.Heard(Notice("a", active: 0, at: T0.AddMilliseconds(500)));
        Assert.Equal(1, view.RoomOf("a")!.Active);

        view.Heard(Notice("a", active: 3, at: T0.AddMilliseconds(600)));
        Assert.Equal(3, view.RoomOf("a")!.Active);

        // An older "no room" is not believed either; a newer one is.
        view.Heard(Notice("a", active: 4, at: T0.AddMilliseconds(700)));
        Assert.NotNull(view.RoomOf("a"));
        view.Heard(Notice("a", active: 4, at: T0.AddSeconds(2)));
        Assert.Null(view.RoomOf("a"));
    }

    [Fact]
    public void A_newer_notice_after_the_placement_is_believed_whatever_it_says()
    {
        var view = new AgentView();
        view.Heard(Notice("a", active: 2));
        view.Placing("a");
        view.Placed("a", T0.AddSeconds(1));
        view.PlacementEnded("a");

        view.Heard(Notice("a", active: 0, at: T0.AddSeconds(2))); // both tasks finished since

        Assert.Equal(0, view.RoomOf("a")!.Active);
    }

    [Fact]
    public void A_refusal_drops_the_agent_unless_it_reported_room_while_the_refusal_travelled()
    {
        var view = new AgentView();
        view.Heard(Notice("a", active: 0));
        view.Heard(Notice("b", active: 0));

        var heardA = view.NoticesOf("a");
        view.Placing("a");
        view.Refused("a", heardA);
        view.PlacementEnded("a");
        Assert.Null(view.RoomOf("a"));

        var heardB = view.NoticesOf("b");
        view.Placing("b");
        view.Heard(Notice("b", active: 0, at: T0.AddSeconds(5)));
        view.Refused("b", heardB);
        view.PlacementEnded("b");
        Assert.NotNull(view.RoomOf("b"));
    }

    [Fact]
    public void A_placement_that_does_not_answer_gives_its_slot_back_and_counts_again_if_it_went_through()
    {
        // The agent has one slot; the task's grain sits on a silo that just died.
        var view = new AgentView();
        view.Heard(Notice("a", active: 0, max: 1));
        view.Placing("a");
        Assert.Null(view.Best());

        view.GiveBack("a");
        Assert.Equal("a", view.Best()!.Id);
        view.Heard(Notice("a", active: 0, max: 1)); // no longer in flight: a notice is believed again
        Assert.Equal(0, view.RoomOf("a")!.Active);

        view.Accepted("a"); // the call answered after all
        Assert.Null(view.Best());
    }

    [Fact]
    public void A_refresh_replaces_the_view_but_keeps_what_changed_here_while_it_ran()
    {
        var view = new AgentView();
        view.Heard(Notice("a", active: 0));
        view.Heard(Notice("b", active: 0));
        view.Heard(Notice("gone", active: 0));

        var mark = view.BeginRefresh();
        view.Placing("a"); // while the query runs

        view.Refreshed(mark, [new AgentRoom("a", 0, 4, false), new AgentRoom("b", 2, 4, false), new AgentRoom("new", 1, 4, true)]);

        Assert.Equal(1, view.RoomOf("a")!.Active); // the index could not know of the placement
        Assert.Equal(2, view.RoomOf("b")!.Active);
        Assert.Null(view.RoomOf("gone"));
        Assert.True(view.RoomOf("new")!.Degraded);
    }
}
