"""Board, board as of a past moment, progress, durations, staleness and overdue dates."""

from datetime import date, timedelta

import pandas as pd
import pytest
from conftest import NOW

from restore import queries, timelines
from restore.queries import Filters
from restore.records import record_status

T0 = NOW - timedelta(days=10, hours=4)  # 08:00 UTC (and London) on 22 March


def at(days: float):
    return T0 + timedelta(days=days)


@pytest.fixture
def story(fresh_store, people):
    """West Midlands email: down day 0.5, back day 4, lost again day 6; Kent hub down day 1."""
    it, wm = people["it"], people["wm"]

    def rec(actor, branch, system, state, day, **kw):
        record_status(
            fresh_store, actor, branch=branch, system=system, state=state, at=at(day), now=NOW, **kw
        )

    rec(wm, "west-midlands", "email", "operational", 0)
    rec(wm, "west-midlands", "email", "outage", 0.5, eta=at(3).date())
    rec(wm, "west-midlands", "email", "investigating", 1)
    rec(wm, "west-midlands", "email", "investigating", 2, note="check-in")
    rec(wm, "west-midlands", "email", "verifying", 3.5)
    rec(it, "west-midlands", "email", "restored", 4, note="verified")
    rec(wm, "west-midlands", "email", "contained", 6, note="re-infected")
    rec(it, "kent", "hub", "outage", 1, eta=at(5).date())
    return fresh_store


def row(board, branch, system):
    return board[(board["slug"] == branch) & (board["system"] == system)].iloc[0]


def test_board_lists_every_branch_system_with_its_latest_event(story):
    board = queries.board(story)
    assert len(board) == 44 * 3
    wm = row(board, "west-midlands", "email")
    assert (wm["state"], wm["note"], wm["updated_by"]) == ("contained", "re-infected", "wm")
    assert wm["since"] == pd.Timestamp(at(6))
    unreported = row(board, "essex", "hub")
    assert pd.isna(unreported["state"]) and unreported["label"] == "No report"


@pytest.mark.parametrize(
    ("day", "state", "since_day", "eta"),
    [
        (-1, None, None, None),
        (0.7, "outage", 0.5, date(2026, 3, 25)),
        (2.5, "investigating", 1, date(2026, 3, 25)),  # the check-in keeps `since`
        (4, "restored", 4, None),  # an event at exactly T counts
        (10, "contained", 6, None),
    ],
)
def test_board_as_of_replays_the_log(story, day, state, since_day, eta):
    past = row(queries.board_as_of(story, at(day)), "west-midlands", "email")
    assert (past["state"] if pd.notna(past["state"]) else None) == state
    assert (past["since"] if pd.notna(past["since"]) else None) == (
        pd.Timestamp(at(since_day)) if since_day is not None else None
    )
    assert (past["eta"] if pd.notna(past["eta"]) else None) == eta


def test_board_as_of_now_equals_the_current_board(story):
    cols = ["branch", "system", "state", "since", "at", "eta", "note", "updated_by"]
    assert queries.board_as_of(story, NOW)[cols].equals(queries.board(story)[cols])


def test_filters_narrow_the_board(story):
    board = queries.board(story, Filters(regions=("West Midlands",), systems=("email",)))
    assert set(board["branch"]) == {"Staffordshire", "Warwickshire", "West Mercia", "West Midlands"}
    assert set(board["system"]) == {"email"}


def test_progress_counts_states_and_bands_per_day(story):
    p = queries.progress(story, until=NOW, freq="D")
    day = {d: p.loc[at(d).date()] for d in (0, 1, 3, 4, 6)}
    assert day[0]["outage"] == 1 and day[0]["operational"] == 0  # operational, then outage that day
    assert (day[1]["investigating"], day[1]["outage"]) == (1, 1)
    assert day[3]["recovering"] == 1 and day[3]["out of service"] == 1
    assert (day[4]["restored"], day[4]["in service"]) == (1, 1)
    assert (day[6]["contained"], day[6]["out of service"]) == (1, 2)
    assert (p[["out of service", "recovering", "in service"]].sum(axis=1) <= 2).all()
    assert p.index[-1] == NOW.date()


def test_progress_per_hour_counts_at_the_end_of_each_hour(story):
    p = queries.progress(story, until=NOW, freq="h")
    before = p[p.index <= pd.Timestamp(at(0.5))]
    assert before["outage"].max() == 0 and before["operational"].iloc[-1] == 1
    assert p["outage"][p.index > pd.Timestamp(at(0.5))].iloc[0] == 1


def test_progress_of_an_empty_log_is_empty(fresh_store):
    assert queries.progress(fresh_store, until=NOW).empty


def test_progress_obeys_filters(story):
    p = queries.progress(story, Filters(systems=("hub",)), until=NOW)
    assert p["outage"].iloc[-1] == 1 and p["contained"].max() == 0


def test_durations_pair_each_outage_with_its_return_to_service(story):
    d = timelines.durations(story).sort_values(["branch", "down_at"], ignore_index=True)
    assert list(zip(d["branch"], d["system"], strict=True)) == [
        ("Kent", "hub"),
        ("West Midlands", "email"),
        ("West Midlands", "email"),
    ]
    assert d.loc[1, "days"] == pytest.approx(3.5)
    assert pd.isna(d.loc[2, "restored_at"]) and pd.isna(d.loc[0, "restored_at"])


def test_stale_branches_have_no_update_for_48_hours_while_not_all_in_service(story):
    full = queries.board(story)
    board = full[full["state"].notna()]  # leave out the systems never reported
    assert list(queries.stale(board, at(6) + timedelta(hours=47))["branch"]) == ["Kent"]
    stale = queries.stale(board, at(8.1))
    assert list(stale["branch"]) == ["Kent", "West Midlands"]
    assert stale.loc[0, "hours_quiet"] == pytest.approx((8.1 - 1) * 24)


def test_a_system_never_reported_makes_its_branch_stale_from_the_start(story):
    """Issue 7, trap 4: a branch that never reported was never chased."""
    board = queries.board(story)
    fresh = at(6) + timedelta(hours=1)  # West Midlands reported an hour ago
    stale = queries.stale(board, fresh).set_index("branch")
    assert len(stale) == 44  # every branch has at least one system never reported
    assert stale.loc["West Midlands", "never_reported"] == 2
    assert stale.loc["West Midlands", "hours_quiet"] == pytest.approx(1)
    assert pd.isna(stale.loc["Essex", "last_update"]) and stale.loc["Essex", "never_reported"] == 3
    first = queries.stale(board, fresh).iloc[0]
    assert first["never_reported"] == 3  # never-reported branches come first
    assert queries.never_reported(board) == (
        sorted(set(board["branch"]) - {"Kent", "West Midlands"}), 44 * 3 - 2
    )


def test_overdue_lists_systems_out_past_their_expected_date(story):
    board = queries.board(story)
    assert queries.overdue(board, at(5)).empty  # due today is not overdue
    late = queries.overdue(board, at(7))
    assert list(late["branch"]) == ["Kent"] and late.loc[0, "days_overdue"] == 2


def test_progress_by_system_adds_up_to_progress(story):
    whole = queries.progress(story, until=NOW)
    parts = queries.progress_by_system(story, until=NOW)
    assert set(parts) == {"email", "hub"}
    summed = sum(p.reindex(whole.index).ffill().fillna(0) for p in parts.values())
    assert (summed["in service"] == whole["in service"]).all()
    assert parts["hub"]["outage"].iloc[-1] == 1


def test_reads_with_nothing_reported_are_empty_not_errors(fresh_store):
    """A fresh install (or a filter with no history) has no day counts and no matching rows."""
    assert queries.progress_by_system(fresh_store) == {}
    assert queries.progress(fresh_store).empty
    nowhere = queries.board(fresh_store, Filters(regions=("Nowhere",)))
    assert nowhere.empty
    assert nowhere["branch"].dtype.kind != "f"  # names stay text, even with no rows


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(regions=("West Midlands",)), Filters(systems=("email", "hub"))],
)
def test_the_status_read_is_the_board_without_its_notes(story, filters):
    """The overview at scale reads `status` (half the cost of the board at 4,000 sites): the
    same systems, states, times and expected dates, in types a figure cannot tell apart."""
    cols = queries.STATUS_COLUMNS
    key = ["branch", "system"]
    board = queries.board(story, filters)[cols].sort_values(key, ignore_index=True)
    status = queries.status(story, filters).sort_values(key, ignore_index=True)
    assert list(status.columns) == cols and "note" not in status
    pd.testing.assert_frame_equal(status, board)
    wm = row(status, "west-midlands", "email")
    assert (wm["state"], wm["at"]) == ("contained", pd.Timestamp(at(6)))
    reported = status[status["state"].notna()]
    assert len(reported) == (1 if filters.regions else 2)  # Kent is not in the West Midlands
    if not filters.regions:
        assert row(status, "kent", "hub")["eta"] == at(5).date()


def status_equals_board(store) -> None:
    cols, key = queries.STATUS_COLUMNS, ["branch", "system"]
    pd.testing.assert_frame_equal(
        queries.status(store).sort_values(key, ignore_index=True),
        queries.board(store)[cols].sort_values(key, ignore_index=True),
    )


def test_the_status_follows_imports_check_ins_and_a_whole_batch(story, people):
    """branch_systems' copy of the last event moves with the pointer on every write path: a
    CSV import of several rows per system, a check-in that keeps the expected date, and a
    return to service that clears it."""
    from restore.transfer import import_csv

    csv = (
        "branch,system,state,at,note,eta\n"
        f"kent,website,outage,{at(7).isoformat()},down,{at(9).date().isoformat()}\n"
        f"kent,website,investigating,{at(8).isoformat()},,\n"
        f"essex,hub,outage,{at(7.5).isoformat()},,\n"
    )
    import_csv(story, people["it"], csv.encode(), now=NOW)
    for day, state in ((8.5, "verifying"), (9, "restored")):
        record_status(story, people["it"], branch="kent", system="hub", state=state,
                      at=at(day), now=NOW)  # fmt: skip
    status = queries.status(story)
    website = row(status, "kent", "website")
    assert (website["state"], website["eta"]) == ("investigating", at(9).date())  # kept
    assert pd.isna(row(status, "kent", "hub")["eta"])  # back in service: no expected date
    status_equals_board(story)


def test_upgrading_to_0013_copies_each_systems_last_event(story):
    """The migration fills the copies from the log for every system already reported."""
    from alembic import command

    from restore import schema

    cfg = schema._config()
    with story.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    schema.upgrade(story)
    status_equals_board(story)
    assert row(queries.status(story), "west-midlands", "email")["state"] == "contained"


@pytest.mark.parametrize(
    ("filters", "until"),
    [(Filters(), NOW), (Filters(systems=("email",)), NOW), (Filters(), at(3)),
     (Filters(regions=("Nowhere",)), NOW)],
)  # fmt: skip
def test_the_daily_totals_summed_from_each_system_type_are_the_daily_totals(
    story, filters, until
):
    """The overview reads the day counts once (per system type) and sums the totals."""
    whole = queries.progress(story, filters, until=until)
    summed = queries.progress_total(queries.progress_by_system(story, filters, until=until))
    pd.testing.assert_frame_equal(summed, whole)


def test_the_status_lists_systems_in_the_boards_order(story):
    """The heat map takes its columns in the order systems first appear: the status keeps
    the board's (PostgreSQL hands rows back as stored, and a check-in moves a stored row)."""
    first_seen = lambda df: list(dict.fromkeys(df["system"]))  # noqa: E731
    assert first_seen(queries.status(story)) == first_seen(queries.board(story))
    one = queries.status(story, Filters(regions=("West Midlands",)))
    assert first_seen(one) == first_seen(queries.board(story, Filters(regions=("West Midlands",))))
