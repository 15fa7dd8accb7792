"""Read plans: live reads are keyed on the data alone, and give what a replay at now gives."""

from datetime import UTC, datetime, timedelta

import pandas as pd
from conftest import NOW

from restore import overview, readplan, scale
from restore.queries import NO_FILTER, Filters
from restore.records import record_status


def test_live_reads_do_not_mention_the_minute():
    """Issue 7, trap 6: the overview was recomputed every minute with nothing changed."""
    first = readplan.moment(None, datetime(2026, 4, 1, 12, 0, 10, tzinfo=UTC))
    later = readplan.moment(None, datetime(2026, 4, 1, 12, 59, 50, tzinfo=UTC))
    assert first == later
    next_day = readplan.moment(None, datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    assert next_day["board"] == first["board"]  # the board now is the board now
    assert next_day["daily"] != first["daily"]  # the daily series gains a day


def test_a_replay_is_keyed_on_its_moment():
    t = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    plan = readplan.moment(t, t + timedelta(hours=5))
    assert plan == readplan.moment(t, t + timedelta(days=3))  # the clock does not matter
    assert plan["board"].args[0] == t and dict(plan["daily"].kwargs)["until"] == t


def test_live_frames_equal_a_replay_at_the_same_moment(fresh_store, people):
    for day, state in ((3, "outage"), (2, "investigating"), (1, "verifying")):
        record_status(fresh_store, people["it"], branch="kent", system="email", state=state,
                      at=NOW - timedelta(days=day), now=NOW)  # fmt: skip
    now = datetime.now(UTC)
    reader = readplan.direct(fresh_store)
    live = readplan.load(readplan.moment(None, now), reader)
    replay = readplan.load(readplan.moment(now, now), reader)
    cols = ["branch", "system", "state", "since", "eta", "note"]
    pd.testing.assert_frame_equal(live["board"][cols], replay["board"][cols])
    pd.testing.assert_frame_equal(live["daily"], replay["daily"])
    view = overview.compose(live, now)
    rows = overview.timeline_rows(view)
    assert rows[["branch", "system"]].values.tolist() == [["Kent", "email"]]
    assert bool(rows["still_out"].iloc[0]) and rows["days_lost"].iloc[0] > 2.9
    stretches = reader(readplan.timeline(None, (("Kent", "email"),)))
    assert stretches["end"].isna().sum() == 1  # live: the open stretch is left open
    drawn = overview.drawn_segments(stretches, now)
    assert (drawn["end"] <= pd.Timestamp(now)).all()  # and ends now when drawn
    assert reader(readplan.timeline(None, ())).empty  # nothing asked, nothing read
    assert view.head.in_service == 0 and view.claimed.iloc[-1] > view.verified.iloc[-1]
    # The overview's own plan leaves the daily totals out and sums them per system type.
    plan = readplan.moment(None, now, daily=False)
    assert "daily" not in plan and set(plan) == set(readplan.moment(None, now)) - {"daily"}
    summed = overview.compose(readplan.load(plan, reader), now)
    pd.testing.assert_frame_equal(summed.daily, view.daily)
    assert summed.head == view.head


def test_at_scale_the_live_board_leaves_notes_out_and_a_region_gets_them_back():
    """Past the grid's 60 sites the overview reads queries.status; drilling into a region
    reads that region's whole board, the very part the full board is cached in."""
    t = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    kent = Filters(regions=("South East",))
    plan = readplan.moment(None, t, notes=False)
    assert plan["board"] == readplan.Read("status", (NO_FILTER,))
    assert {k: r for k, r in plan.items() if k != "board"} == {
        k: r for k, r in readplan.moment(None, t).items() if k != "board"
    }
    region = readplan.with_notes(plan["board"], "South East")
    assert region == readplan.Read("board", (kent,))
    parts = readplan.by_region(readplan.Read("board", (NO_FILTER,)), ["North", "South East"])
    assert region in parts
    assert readplan.by_region(plan["board"], ["North", "South East"])[1] == readplan.Read(
        "status", (kent,)
    )
    replay = readplan.moment(t, t + timedelta(hours=1), notes=False)["board"]
    assert replay.name == "board_as_of"  # a replay reads the whole board as before
    assert readplan.with_notes(replay, "South East") == readplan.Read("board_as_of", (t, kent))


def test_the_grid_needs_notes_up_to_60_sites_in_the_regions_chosen():
    sites = pd.DataFrame({"region": ["North"] * 50 + ["South"] * 20})
    assert not scale.grid_needs_notes(sites)  # 70 sites: the heat map
    assert scale.grid_needs_notes(sites, ("North",))  # 50: a column each
    assert scale.grid_needs_notes(sites.head(60))
