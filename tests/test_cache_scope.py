"""A write drops only the cached reads whose answers it changes (issue 9, busy day)."""

from datetime import timedelta

import pandas as pd
import pytest
from conftest import NOW

from restore import queries, readplan
from restore.directory import SYSTEM, add_incident, add_user
from restore.queries import NO_FILTER, Filters
from restore.records import record_status
from restore.ui import data

PLAN_READS = ("board", "daily", "by_system", "episodes", "slippage")


@pytest.fixture
def cached(fresh_store, people, db_url, monkeypatch):
    """Some history, the page cache pointed at this database and emptied."""
    monkeypatch.setenv("RESTORE_DATABASE_URL", db_url)
    add_incident(fresh_store, people["it"], name="Attack", started_at=NOW - timedelta(days=3))
    for branch in ("kent", "dorset", "west-midlands"):
        rec(fresh_store, people, branch, "outage", hours=40)
    data.forget()
    data.COMPUTED.clear()
    return fresh_store


def rec(store, people, branch, state, hours, system="email", note=""):
    record_status(store, people["it"], branch=branch, system=system, state=state, note=note,
                  at=NOW - timedelta(hours=hours), now=NOW)  # fmt: skip


def computed_by(plan) -> dict[str, int]:
    """Load a plan and say which reads were computed (cache misses) to do it."""
    data.COMPUTED.clear()
    data.load(plan)
    return {k: v for k, v in data.COMPUTED.items() if v}


def live(filters=NO_FILTER):
    plan = readplan.moment(None, NOW, filters)
    return {k: plan[k] for k in PLAN_READS}


def test_a_rerun_with_nothing_written_computes_nothing(cached):
    assert computed_by(live())  # the first run reads everything
    assert computed_by(live()) == {}


def test_a_check_in_re_reads_only_its_regions_board(cached, people):
    computed_by(live())
    rec(cached, people, "kent", "outage", hours=2, note="still down")  # the same state again
    assert computed_by(live()) == {"board": 1}
    board = data.load(live())["board"]
    direct = queries.board(cached)
    pd.testing.assert_frame_equal(board, direct)  # the per-region parts make the same board
    assert board.loc[(board["slug"] == "kent") & (board["system"] == "email"), "note"].item() == (
        "still down"
    )


def test_a_cold_cache_reads_the_board_whole_once_and_keeps_it_a_region_at_a_time(
    cached, people
):
    """One read of the whole board, not one per region, when nothing is cached (a first
    draw); a later write still re-reads only its own region's part."""
    plan = live()
    assert computed_by_reads(plan) == [plan["board"]]  # the whole board, not its parts
    pd.testing.assert_frame_equal(data.load(plan)["board"], queries.board(cached))
    assert computed_by(plan) == {}  # every region's part was kept from the one read
    rec(cached, people, "kent", "outage", hours=2, note="still down")
    (part,) = computed_by_reads(plan)
    kent = queries.board(cached).set_index("slug").loc["kent", "region"].iloc[0]
    assert part.name == "board" and part.args[0].regions == (kent,)
    pd.testing.assert_frame_equal(data.load(plan)["board"], queries.board(cached))


def computed_by_reads(plan) -> list:
    """The board reads computed to load a plan (cache misses), whole or a region's part."""
    before = dict(data.COMPUTED_AT)
    data.load(plan)
    return [r for r, t in data.COMPUTED_AT.items() if r.name == "board" and before.get(r) != t]


def test_a_change_of_state_re_reads_the_series_but_not_other_regions_views(cached, people):
    kent_region = queries.board(cached).set_index("slug").loc["kent", "region"].iloc[0]
    dorset_region = queries.board(cached).set_index("slug").loc["dorset", "region"].iloc[0]
    assert kent_region != dorset_region
    elsewhere = live(Filters(regions=(dorset_region,)))
    computed_by(live())
    computed_by(elsewhere)
    rec(cached, people, "kent", "investigating", hours=1)
    assert computed_by(elsewhere) == {}
    again = computed_by(live())
    assert {"board", "progress", "progress_by_system", "durations"} <= set(again)
    assert "slippage" not in again  # no expected date moved
    assert data.load(live())["daily"].iloc[-1]["investigating"] == 1


def test_a_new_user_leaves_every_chart_cached(cached):
    computed_by(live())
    add_user(cached, SYSTEM, username="newchair", role="chair", branch="kent")
    assert computed_by(live()) == {}
    assert "newchair" in set(data.read("users")["username"])


def test_a_board_whose_regions_differ_in_what_they_hold_merges_like_one_read(cached, people):
    """A region with every system reported (whole-number ids) beside regions with systems
    never reported: the merged board has the types one read of it has."""
    from restore.directory import SYSTEM, add_branch

    add_branch(cached, SYSTEM, name="Isles of Scilly", slug="scilly", region="Atlantic")
    for system in ("website", "hub", "email"):
        record_status(cached, people["it"], branch="scilly", system=system, state="outage",
                      at=NOW - timedelta(hours=3), now=NOW)  # fmt: skip
    board = data.load(live())["board"]
    pd.testing.assert_frame_equal(board, queries.board(cached))
