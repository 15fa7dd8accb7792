"""Incremental read models equal a rebuild from the log, and reads over them equal replays
of the log, after a random mix of writes, imports, backdated events and overrides."""

import random
from datetime import timedelta

import pandas as pd
import pytest
from conftest import NOW
from sqlalchemy import select

from restore import queries, readmodels, timelines
from restore.directory import add_incident
from restore.domain import STATE_IDS, legal_next_states
from restore.filters import NO_FILTER, Filters
from restore.readmodels.tables import MODEL_TABLES
from restore.records import RuleError, ValidationError, record_status
from restore.store import branch_systems, events, systems
from restore.transfer import import_csv

START = NOW - timedelta(days=20)
SITES = ["kent", "west-midlands", "essex", "hq", "dorset"]
SYSTEMS = ["email", "hub", "website"]


def tables(store) -> dict[str, list[tuple]]:
    with store.read() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in MODEL_TABLES}


def random_history(store, people, seed: int) -> int:
    """Walk random systems through legal moves (and some overrides, check-ins, backdated
    events and CSV imports) over 20 days; returns how many events were written."""
    rnd = random.Random(seed)
    add_incident(store, people["it"], name="HQ attack", started_at=START)
    add_incident(store, people["it"], name="Branch attack", started_at=START + timedelta(days=5))
    state: dict[tuple[str, str], str | None] = {}
    last: dict[tuple[str, str], object] = {}
    t, written = START, 0
    for step in range(90):
        t += timedelta(hours=rnd.choice([1, 3, 7, 13]))
        key = (rnd.choice(SITES), rnd.choice(SYSTEMS))
        # Backdated: takes effect some hours before now's step, but after the system's last.
        at = max(t - timedelta(hours=rnd.choice([0, 0, 5, 30])), last.get(key, START))
        current = state.get(key)
        move = rnd.random()
        if move < 0.1 and current:
            new, reason = rnd.choice([s for s in STATE_IDS if s != current]), "HQ override"
        elif move < 0.25 and current:
            new, reason = current, None  # a check-in
        else:
            new, reason = rnd.choice(legal_next_states(current)), None
        eta = (at + timedelta(days=rnd.randint(1, 9))).date() if rnd.random() < 0.4 else None
        incident = "HQ attack" if at < START + timedelta(days=5) else "Branch attack"
        kw = {"branch": key[0], "system": key[1], "state": new, "at": at, "eta": eta,
              "note": rnd.choice(["", "", "called the chair"]), "incident": incident}  # fmt: skip
        try:
            if step % 17 == 16:  # now and then the same change arrives through an import
                csv = "branch,system,state,at,note,eta,incident\n" + (
                    f"{key[0]},{key[1]},{new},{at.isoformat()},{kw['note']},"
                    f"{eta.isoformat() if eta else ''},{incident}\n"
                )
                import_csv(store, people["it"], csv.encode(), now=NOW)
            else:
                record_status(store, people["it"], reason=reason, now=NOW, **kw)
        except (RuleError, ValidationError):
            continue
        state[key], last[key] = new, at
        written += 1
    return written


@pytest.fixture
def mixed(fresh_store, people):
    assert random_history(fresh_store, people, seed=7) > 45
    return fresh_store


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuilt_read_models_equal_the_incremental_ones(fresh_store, people, seed):
    random_history(fresh_store, people, seed)
    kept = tables(fresh_store)
    assert kept["rm_state_spans"] and kept["rm_outages"] and kept["rm_board_days"]
    counts = readmodels.rebuild(fresh_store)
    with fresh_store.read() as conn:
        assert counts["events"] == len(conn.execute(select(events.c.id)).all())
    assert tables(fresh_store) == kept


def _log(store) -> pd.DataFrame:
    q = (
        select(events.c.branch_system_id.label("bs"), events.c.id, events.c.state,
               events.c.effective_at.label("at"), systems.c.key.label("system"))
        .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
        .order_by(events.c.id)
    )  # fmt: skip
    with store.read() as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["bs", "id", "state", "at", "system"])
    df["at"] = pd.to_datetime(df["at"], utc=True)
    return df


def test_daily_counts_equal_a_replay_of_the_whole_log(mixed):
    log = _log(mixed)
    daily = queries.progress(mixed, until=NOW)
    for day in daily.index[::3]:
        end = pd.Timestamp(day, tz="Europe/London") + pd.Timedelta(days=1)
        newest = log[log["at"] < end].groupby("bs").tail(1)
        expected = newest["state"].value_counts().reindex(STATE_IDS, fill_value=0)
        assert daily.loc[day, list(STATE_IDS)].tolist() == expected.tolist(), day


def test_daily_counts_by_system_equal_the_log_replay_per_hour(mixed):
    by_system = queries.progress_by_system(mixed, until=NOW)
    hourly = queries.progress_by_system(mixed, until=NOW, freq="h")  # replays the log
    for key, daily in by_system.items():
        ends = hourly[key].groupby(hourly[key].index.map(lambda t: (t - pd.Timedelta(
            microseconds=1)).date())).last()  # fmt: skip
        assert daily.equals(ends.loc[daily.index].rename_axis("time")), key


@pytest.mark.parametrize("hours", [30, 200, 400])
def test_board_as_of_equals_the_newest_event_before_the_moment(mixed, hours):
    moment = START + timedelta(hours=hours)
    log = _log(mixed)
    newest = log[log["at"] <= moment].groupby("bs").tail(1).set_index("id")
    board = queries.board_as_of(mixed, moment).dropna(subset=["state"])
    assert sorted(board["event_id"].astype(int)) == sorted(newest.index)
    for _, r in board.iterrows():
        mine = log[(log["bs"] == newest.loc[r["event_id"], "bs"]) & (log["at"] <= moment)]
        changed = mine["state"] != mine["state"].shift()
        assert r["since"] == mine[changed]["at"].iloc[-1]


def test_episodes_and_spans_match_the_log(mixed):
    log = _log(mixed)
    spans = timelines.segments(mixed)
    flips = log[log["state"] != log.groupby("bs")["state"].shift()]
    assert len(spans) == len(flips)
    out = timelines.durations(mixed, until=NOW)
    assert out["restored_at"].isna().sum() == sum(
        1 for _, g in log.groupby("bs")
        if queries.band_of(g["state"].iloc[-1]).value != "in service"
    )  # fmt: skip


def test_the_incident_filter_counts_the_states_each_incident_set(mixed):
    hq = queries.progress(mixed, Filters(incident="HQ attack"), until=NOW)
    branch = queries.progress(mixed, Filters(incident="Branch attack"), until=NOW)
    total = queries.progress(mixed, until=NOW)
    last = total.index[-1]
    assert hq.loc[last, "restored"] + branch.loc[last, "restored"] == total.loc[last, "restored"]


@pytest.mark.parametrize("hours", [30, 200, 400])
def test_the_change_in_24_hours_equals_the_difference_of_two_boards(mixed, hours):
    """The headline's change in service over a day, read from the state stretches, is what
    comparing the board at both ends gives (with any filter)."""
    end = START + timedelta(hours=hours)
    since = end - timedelta(hours=24)

    def in_service(board):
        return int((board["band"] == "in service").sum())

    for filters in (NO_FILTER, Filters(incident="Branch attack"), Filters(systems=("email",))):
        expected = in_service(queries.board_as_of(mixed, end, filters)) - in_service(
            queries.board_as_of(mixed, since, filters)
        )
        assert queries.in_service_change(mixed, since, filters, until=end) == expected
    live = in_service(queries.board(mixed)) - in_service(queries.board_as_of(mixed, since))
    assert queries.in_service_change(mixed, since) == live
