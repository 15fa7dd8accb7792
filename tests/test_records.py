"""Status writes on both databases: who may, what is legal, nothing written on error."""

from datetime import date, timedelta

import pytest
from conftest import NOW, snapshot
from sqlalchemy import select

from restore.access import PermissionDenied
from restore.directory import SYSTEM, add_incident
from restore.domain import RuleError
from restore.records import ConflictError, NotFound, ValidationError, record_status
from restore.store import branch_systems, events


def rec(store, actor, **kw):
    kw = {"branch": "west-midlands", "system": "email", "now": NOW, **kw}
    kw.setdefault("at", NOW - timedelta(hours=1))
    return record_status(store, actor, **kw)


def log(store):
    with store.read() as conn:
        return [dict(r) for r in conn.execute(select(events).order_by(events.c.id)).mappings()]


def refused(store, exc, match, actor, **kw):
    """Assert the write raises `exc` matching `match` and leaves the database as it was."""
    before = snapshot(store)
    with pytest.raises(exc, match=match):
        rec(store, actor, **kw)
    assert snapshot(store) == before


# --- who may write -------------------------------------------------------------


def test_chair_records_for_their_own_branch_and_the_log_names_them(fresh_store, people):
    event_id = rec(fresh_store, people["wm"], state="outage", note="down")
    (row,) = log(fresh_store)
    assert row["id"] == event_id
    assert (row["state"], row["actor"], row["entered_by"], row["source"]) == (
        "outage",
        "wm",
        "wm",
        "web",
    )
    assert row["effective_at"] == NOW - timedelta(hours=1)
    assert row["recorded_at"] == NOW


def test_chair_cannot_record_for_another_branch(fresh_store, people):
    refused(
        fresh_store,
        PermissionDenied,
        "only for their own branch",
        people["wm"],
        branch="kent",
        state="outage",
    )


@pytest.mark.parametrize("who", ["boss", "anon"])
def test_leadership_and_anonymous_never_write(fresh_store, people, who):
    refused(fresh_store, PermissionDenied, "may not record status", people[who], state="outage")


def test_hq_it_records_for_any_branch(fresh_store, people):
    rec(fresh_store, people["it"], branch="Kent", state="outage")
    rec(fresh_store, people["it"], branch="KENT", system="HUB", state="contained")
    assert [r["state"] for r in log(fresh_store)] == ["outage", "contained"]


def test_hq_it_records_on_a_branchs_behalf_after_a_phone_call(fresh_store, people):
    rec(fresh_store, people["it"], state="outage", source="phone", note="chair phoned")
    assert log(fresh_store)[0]["source"] == "phone"


def test_chair_cannot_claim_a_phone_call(fresh_store, people):
    refused(
        fresh_store,
        PermissionDenied,
        "record on a branch's behalf",
        people["wm"],
        state="outage",
        source="phone",
    )


# --- the two keys and overrides ------------------------------------------------


def _to_verifying(store, actor):
    for i, state in enumerate(["outage", "investigating", "rebuilding", "verifying"]):
        rec(store, actor, state=state, at=NOW - timedelta(hours=10 - i))


def test_only_hq_it_moves_a_system_from_verifying_to_restored(fresh_store, people):
    _to_verifying(fresh_store, people["wm"])
    refused(
        fresh_store,
        PermissionDenied,
        "only HQ IT may move West Midlands email",
        people["wm"],
        state="restored",
    )
    rec(fresh_store, people["it"], state="restored")
    assert log(fresh_store)[-1]["state"] == "restored"


def test_illegal_move_is_refused_naming_the_legal_next_states(fresh_store, people):
    rec(fresh_store, people["wm"], state="outage", at=NOW - timedelta(hours=2))
    refused(
        fresh_store,
        RuleError,
        "legal next states: outage, contained, investigating",
        people["it"],
        state="restored",
    )


def test_hq_it_overrides_an_illegal_move_with_a_recorded_reason(fresh_store, people):
    rec(fresh_store, people["wm"], state="outage", at=NOW - timedelta(hours=2))
    rec(fresh_store, people["it"], state="restored", reason="checked on site by phone")
    assert log(fresh_store)[-1]["override_reason"] == "checked on site by phone"


def test_chair_cannot_override_even_with_a_reason(fresh_store, people):
    rec(fresh_store, people["wm"], state="outage", at=NOW - timedelta(hours=2))
    refused(
        fresh_store,
        RuleError,
        "legal next states",
        people["wm"],
        state="restored",
        reason="trust me",
    )


def test_blank_reason_is_no_override(fresh_store, people):
    rec(fresh_store, people["wm"], state="outage", at=NOW - timedelta(hours=2))
    refused(
        fresh_store, RuleError, "legal next states", people["it"], state="restored", reason="   "
    )


# --- validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"branch": "Atlantis"}, "unknown branch 'Atlantis'"),
        ({"system": "fax"}, "West Midlands has no system 'fax'; its systems are: email, hub"),
        ({"at": NOW + timedelta(minutes=6)}, "is in the future"),
        ({"note": "x" * 2001}, "note is 2001 characters; the limit is 2000"),
        ({"eta": date(2026, 3, 31)}, "expected date 2026-03-31 is before the effective time"),
        ({"source": "fax"}, "unknown source 'fax'"),
        ({"state": "fixed"}, "unknown state 'fixed'"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(fresh_store, people, kw, message):
    refused(
        fresh_store,
        (ValidationError, RuleError),
        message,
        people["wm"],
        **{"state": "outage", **kw},
    )


def test_effective_time_before_the_latest_event_is_refused(fresh_store, people):
    rec(fresh_store, people["wm"], state="outage", at=NOW - timedelta(hours=1))
    refused(
        fresh_store,
        ValidationError,
        "is before this system's latest event",
        people["wm"],
        state="investigating",
        at=NOW - timedelta(hours=2),
    )


def test_limits_themselves_are_accepted(fresh_store, people):
    rec(
        fresh_store,
        people["wm"],
        state="outage",
        note="n" * 2000,
        at=NOW + timedelta(minutes=5),
        eta=NOW.date(),
    )
    assert len(log(fresh_store)[0]["note"]) == 2000


def test_several_problems_are_reported_together(fresh_store, people):
    refused(
        fresh_store,
        ValidationError,
        "in the future.*note is 2001",
        people["wm"],
        state="outage",
        at=NOW + timedelta(days=1),
        note="x" * 2001,
    )


# --- conflicts -----------------------------------------------------------------


def test_a_change_since_the_writer_looked_is_a_conflict_naming_who_and_when(fresh_store, people):
    seen = rec(fresh_store, people["wm"], state="outage", at=NOW - timedelta(hours=3))
    rec(fresh_store, people["it"], state="contained", at=NOW - timedelta(hours=2))
    refused(
        fresh_store,
        ConflictError,
        "changed by it at 01 Apr 2026 11:00 \\(now contained\\)",
        people["wm"],
        state="investigating",
        seen_event_id=seen,
    )


def test_writer_who_saw_no_events_conflicts_with_a_first_report(fresh_store, people):
    rec(fresh_store, people["it"], state="outage", at=NOW - timedelta(hours=3))
    refused(
        fresh_store,
        ConflictError,
        "changed by it",
        people["wm"],
        state="contained",
        seen_event_id=0,
    )


def test_writer_who_saw_the_latest_event_succeeds(fresh_store, people):
    seen = rec(fresh_store, people["wm"], state="outage", at=NOW - timedelta(hours=3))
    rec(fresh_store, people["wm"], state="investigating", seen_event_id=seen)
    assert len(log(fresh_store)) == 2


# --- what the pointers and the log keep ----------------------------------------


def _pointer(store):
    with store.read() as conn:
        return conn.execute(
            select(branch_systems.c.last_event_id, branch_systems.c.since).where(
                branch_systems.c.last_event_id.is_not(None)
            )
        ).one()


def test_check_in_keeps_since_and_moves_the_latest_event(fresh_store, people):
    first = rec(fresh_store, people["wm"], state="outage", at=NOW - timedelta(hours=5))
    again = rec(fresh_store, people["wm"], state="outage", at=NOW - timedelta(hours=1))
    assert first != again
    assert tuple(_pointer(fresh_store)) == (again, NOW - timedelta(hours=5))


def test_expected_date_is_kept_until_back_in_service(fresh_store, people):
    rec(
        fresh_store,
        people["wm"],
        state="outage",
        eta=date(2026, 4, 20),
        at=NOW - timedelta(hours=5),
    )
    rec(fresh_store, people["wm"], state="investigating", at=NOW - timedelta(hours=4))
    rec(fresh_store, people["wm"], state="verifying", at=NOW - timedelta(hours=3))
    rec(fresh_store, people["it"], state="restored", at=NOW - timedelta(hours=2))
    assert [r["eta"] for r in log(fresh_store)] == [date(2026, 4, 20)] * 3 + [None]


def test_notes_with_html_and_markdown_are_stored_exactly(fresh_store, people):
    note = "<script>alert(1)</script> **bold** [link](http://x) ![img](http://x)\n\t'quote\""
    rec(fresh_store, people["wm"], state="outage", note=note)
    assert log(fresh_store)[0]["note"] == note


def test_an_outage_with_one_incident_open_belongs_to_it(fresh_store, people):
    only = add_incident(fresh_store, SYSTEM, name="One", started_at=NOW - timedelta(days=9))
    rec(fresh_store, people["wm"], state="outage")
    assert [r["incident_id"] for r in log(fresh_store)] == [only]


def test_a_new_outage_while_two_incidents_are_open_must_name_one(fresh_store, people):
    add_incident(fresh_store, SYSTEM, name="HQ attack", started_at=NOW - timedelta(days=9))
    add_incident(fresh_store, SYSTEM, name="Branch attack", started_at=NOW - timedelta(days=2))
    refused(
        fresh_store, ValidationError, "more than one incident is open .HQ attack; Branch attack.",
        people["wm"], state="outage",
    )  # fmt: skip


def test_events_of_an_episode_keep_its_incident_after_another_attack_starts(fresh_store, people):
    """An HQ system hit in the HQ attack stays in the HQ attack's charts (issue 7, trap 5)."""
    hq = add_incident(fresh_store, SYSTEM, name="HQ attack", started_at=NOW - timedelta(days=9))
    it = people["it"]
    kw = {"branch": "hq", "system": "email"}
    rec(fresh_store, it, state="operational", at=NOW - timedelta(days=10), **kw)
    rec(fresh_store, it, state="contained", at=NOW - timedelta(days=8), **kw)
    branch = add_incident(
        fresh_store, SYSTEM, name="Branch attack", started_at=NOW - timedelta(days=2)
    )
    rec(fresh_store, it, state="investigating", at=NOW - timedelta(days=1), **kw)
    rec(fresh_store, it, state="investigating", note="still at it", **kw)
    rec(fresh_store, it, state="outage", incident="Branch attack", at=NOW, **kw)
    rec(fresh_store, it, state="rebuilding", at=NOW, **kw)
    got = [r["incident_id"] for r in log(fresh_store)]
    assert got == [None, hq, hq, hq, branch, branch]


def test_unknown_incident_is_refused(fresh_store, people):
    refused(
        fresh_store,
        NotFound,
        "unknown incident 'Zed'",
        people["wm"],
        state="outage",
        incident="Zed",
    )


@pytest.mark.parametrize("sql", ["UPDATE events SET note = 'rewritten'", "DELETE FROM events"])
def test_the_database_refuses_to_rewrite_the_event_log(fresh_store, people, sql):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    rec(fresh_store, people["wm"], state="outage", note="as said")
    with pytest.raises(DBAPIError, match="append-only"), fresh_store.write() as conn:
        conn.execute(text(sql))
    assert [r["note"] for r in log(fresh_store)] == ["as said"]


# --- the chair's flow: one-tap check-ins, double taps, HQ IT verifying several ------------


def _three_down(store, it):
    for system, state in (("website", "investigating"), ("hub", "verifying"), ("email", "outage")):
        record_status(store, it, branch="kent", system=system, state=state, note=f"{system} note",
                      eta=date(2026, 4, 20), at=NOW - timedelta(hours=3), now=NOW)  # fmt: skip


def test_nothing_has_changed_checks_in_every_system_not_in_service(fresh_store, people):
    from restore import queries
    from restore.records import check_in_branch

    _three_down(fresh_store, people["it"])
    record_status(fresh_store, people["it"], branch="kent", system="website", state="verifying",
                  at=NOW - timedelta(hours=2), now=NOW)  # fmt: skip
    record_status(fresh_store, people["it"], branch="kent", system="website", state="restored",
                  at=NOW - timedelta(hours=1), now=NOW)  # fmt: skip
    ids = check_in_branch(fresh_store, people["kent"], branch="kent", now=NOW)
    new = [r for r in log(fresh_store) if r["id"] in ids]
    assert [(r["state"], r["note"], r["eta"], r["actor"], r["source"]) for r in new] == [
        ("verifying", "", date(2026, 4, 20), "kent", "web"),
        ("outage", "", date(2026, 4, 20), "kent", "web"),
    ]  # the restored website is left alone; one event per system, in one transaction
    board = queries.board(fresh_store).set_index(["slug", "system"])
    assert board.loc[("kent", "email"), "note"] == "email note"  # the last note stays in view
    assert board.loc[("kent", "email"), "at"] == NOW


@pytest.mark.parametrize("who", ["wm", "boss", "anon"])
def test_nothing_has_changed_is_refused_whole_for_anyone_else(fresh_store, people, who):
    from restore.records import check_in_branch

    _three_down(fresh_store, people["it"])
    before = snapshot(fresh_store)
    with pytest.raises(PermissionDenied):
        check_in_branch(fresh_store, people[who], branch="kent", now=NOW)
    assert snapshot(fresh_store) == before


def test_nothing_has_changed_with_everything_in_service_says_so(fresh_store, people):
    from restore.records import check_in_branch

    with pytest.raises(ValidationError, match="every reported system of Kent is in service"):
        check_in_branch(fresh_store, people["kent"], branch="kent", now=NOW)


def test_the_same_form_submission_is_recorded_once(fresh_store, people):
    from restore.records import DuplicateSubmission

    rec(fresh_store, people["wm"], state="outage", note="down", submission="form-1")
    refused(fresh_store, DuplicateSubmission, "already recorded", people["wm"],
            state="investigating", submission="form-1")  # fmt: skip
    rec(fresh_store, people["wm"], state="investigating", submission="form-2")
    assert [r["submission"] for r in log(fresh_store)] == ["form-1", "form-2"]


def test_an_identical_event_from_the_same_user_within_a_minute_is_refused(fresh_store, people):
    from restore.records import DuplicateSubmission

    rec(fresh_store, people["wm"], state="outage", note="down", at=None)
    refused(fresh_store, DuplicateSubmission, "you recorded exactly this", people["wm"],
            state="outage", note="down", at=None, now=NOW + timedelta(seconds=20))  # fmt: skip
    rec(fresh_store, people["it"], state="outage", note="down", at=None,
        now=NOW + timedelta(seconds=30))  # another user may say the same  # fmt: skip
    rec(fresh_store, people["wm"], state="outage", note="down", at=None,
        now=NOW + timedelta(minutes=2))  # fmt: skip
    assert len(log(fresh_store)) == 3


def test_hq_it_verifies_several_waiting_systems_each_with_its_own_event(fresh_store, people):
    from restore import queries
    from restore.records import verify_waiting

    _three_down(fresh_store, people["it"])
    record_status(fresh_store, people["kent"], branch="kent", system="website",
                  state="verifying", now=NOW)  # fmt: skip
    board = queries.board(fresh_store).set_index(["slug", "system"])
    waiting = [("kent", s, int(board.loc[("kent", s), "event_id"])) for s in ("website", "hub")]
    new = verify_waiting(fresh_store, people["it"], systems_seen=waiting,
                         now=NOW + timedelta(minutes=5))  # fmt: skip
    rows = [r for r in log(fresh_store) if r["id"] in new]
    assert [(r["state"], r["actor"]) for r in rows] == [("restored", "it"), ("restored", "it")]


def test_verifying_several_is_refused_whole_when_one_is_not_waiting(fresh_store, people):
    from restore.records import verify_waiting

    _three_down(fresh_store, people["it"])
    before = snapshot(fresh_store)
    with pytest.raises(ValidationError, match="Kent email is outage, not verifying"):
        verify_waiting(fresh_store, people["it"], systems_seen=[("kent", "hub", None),
                       ("kent", "email", None)], now=NOW)  # fmt: skip
    with pytest.raises(PermissionDenied):
        verify_waiting(fresh_store, people["kent"], systems_seen=[("kent", "hub", None)], now=NOW)
    assert snapshot(fresh_store) == before


def test_nothing_has_changed_refuses_when_a_system_changed_since_the_page_was_read(
    fresh_store, people
):
    from restore import queries
    from restore.records import check_in_branch

    _three_down(fresh_store, people["it"])
    board = queries.board(fresh_store).set_index(["slug", "system"])
    seen = {s: int(board.loc[("kent", s), "event_id"]) for s in ("website", "hub", "email")}
    record_status(fresh_store, people["it"], branch="kent", system="email", state="rebuilding",
                  now=NOW)  # fmt: skip
    before = snapshot(fresh_store)
    with pytest.raises(ConflictError, match="Kent email was changed by it"):
        check_in_branch(fresh_store, people["kent"], branch="kent", seen=seen, now=NOW)
    assert snapshot(fresh_store) == before


def test_a_second_tap_that_overtook_the_first_ones_refresh_is_a_repeat_not_a_conflict(
    fresh_store, people
):
    from restore.records import DuplicateSubmission

    rec(fresh_store, people["wm"], state="outage", note="down", at=None, seen_event_id=0)
    refused(fresh_store, DuplicateSubmission, "not recorded twice", people["wm"], state="outage",
            note="down", at=None, seen_event_id=0, now=NOW + timedelta(seconds=2))  # fmt: skip
    refused(fresh_store, ConflictError, "was changed by wm", people["wm"], state="contained",
            at=None, seen_event_id=0, now=NOW + timedelta(seconds=3))  # fmt: skip
