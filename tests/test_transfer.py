"""CSV import (all rows or none, line-numbered errors) and export round trips, on both databases."""

import json
from datetime import timedelta

import pytest
from conftest import NOW, snapshot

from restore import queries, schema
from restore.access import PermissionDenied
from restore.directory import SYSTEM, add_user, seed_reference
from restore.records import record_status
from restore.store import Store
from restore.transfer import ImportRefused, export_rows, import_csv, to_csv, to_json

HEADER = "branch,system,state,at,note,eta\n"
GOOD = (
    "West Midlands,email,outage,2026-03-21T09:00,Down,2026-04-10\n"
    "west-midlands,email,investigating,2026-03-22T10:00,Forensics,\n"
    "Kent,hub,contained,2026-03-21T08:00:00+00:00,,\n"
)


def refused(store, actor, data: bytes, *expected: str):
    before = snapshot(store)
    with pytest.raises(ImportRefused) as err:
        import_csv(store, actor, data, now=NOW)
    assert snapshot(store) == before
    for line in expected:
        assert any(line in e for e in err.value.errors), (line, err.value.errors)
    return err.value.errors


def test_good_file_imports_every_row_in_order(fresh_store, people):
    assert import_csv(fresh_store, people["it"], (HEADER + GOOD).encode(), now=NOW) == 3
    board = queries.board(fresh_store).set_index(["slug", "system"])
    assert board.loc[("west-midlands", "email"), "state"] == "investigating"
    assert str(board.loc[("west-midlands", "email"), "eta"]) == "2026-04-10"  # carried forward
    assert board.loc[("kent", "hub"), "updated_by"] == "it"
    assert {r["source"] for r in export_rows(fresh_store, people["it"])} == {"import"}


def test_one_bad_row_among_good_ones_refuses_all(fresh_store, people):
    bad = HEADER + GOOD + "Kent,hub,restored,2026-03-22T08:00,,\n"
    refused(
        fresh_store,
        people["it"],
        bad.encode(),
        "line 5: cannot move from 'contained' to 'restored'; legal next states",
    )


def test_every_bad_row_is_reported_with_its_line_number(fresh_store, people):
    bad = HEADER + (
        "Atlantis,email,outage,2026-03-21T09:00,,\n"
        "Kent,fax,outage,2026-03-21T09:00,,\n"
        "Kent,email,outage,yesterday,,\n"
        "Kent,hub,outage,2026-03-21T09:00,,21/03\n"
        "Kent,website,sorted,2026-03-21T09:00,,\n"
        "Kent,website,outage,2027-01-01T00:00,,\n"
    )
    errors = refused(
        fresh_store,
        people["it"],
        bad.encode(),
        "line 2: unknown branch 'Atlantis'",
        "line 3: Kent has no system 'fax'",
        "line 4: 'yesterday' is not a time",
        "line 5: '21/03' is not a date",
        "line 6: unknown state 'sorted'",
        "line 7: effective time",
    )
    assert len(errors) == 6


def test_rows_out_of_time_order_for_one_system_are_refused(fresh_store, people):
    bad = HEADER + "Kent,hub,outage,2026-03-22T09:00,,\nKent,hub,contained,2026-03-21T09:00,,\n"
    refused(fresh_store, people["it"], bad.encode(), "line 3: effective time")


def test_wrong_header_is_refused(fresh_store, people):
    refused(
        fresh_store,
        people["it"],
        b"branch,sys,state,when\nKent,hub,outage,x\n",
        "line 1: wrong header (missing column(s) system; unknown column(s) sys, when)",
    )


def test_unknown_branch_is_refused(fresh_store, people):
    refused(
        fresh_store,
        people["it"],
        (HEADER + "Narnia,hub,outage,,,\n").encode(),
        "line 2: unknown branch 'Narnia'",
    )


def test_non_utf8_file_is_refused_naming_the_line(fresh_store, people):
    data = (HEADER + "Kent,hub,outage,2026-03-21T09:00,caf").encode() + b"\xe9\n"
    refused(fresh_store, people["it"], data, "line 2: the file is not UTF-8 text (byte 0xe9)")


@pytest.mark.parametrize("data", [b"", b"   \n\n"])
def test_empty_file_is_refused(fresh_store, people, data):
    refused(fresh_store, people["it"], data, "line 1: the file is empty")


def test_header_without_rows_is_refused(fresh_store, people):
    refused(fresh_store, people["it"], HEADER.encode(), "no rows to import")


def test_a_row_with_too_many_values_is_refused(fresh_store, people):
    refused(
        fresh_store,
        people["it"],
        (HEADER + "Kent,hub,outage,,,,extra\n").encode(),
        "line 2: 7 values for 6 columns",
    )


@pytest.mark.parametrize("who", ["wm", "boss", "anon"])
def test_only_hq_it_imports(fresh_store, people, who):
    before = snapshot(fresh_store)
    with pytest.raises(PermissionDenied):
        import_csv(fresh_store, people[who], (HEADER + GOOD).encode(), now=NOW)
    assert snapshot(fresh_store) == before


def test_dry_run_checks_and_writes_nothing(fresh_store, people):
    before = snapshot(fresh_store)
    assert (
        import_csv(fresh_store, people["it"], (HEADER + GOOD).encode(), now=NOW, dry_run=True) == 3
    )
    assert snapshot(fresh_store) == before


def test_multiline_quoted_notes_keep_their_line_numbers(fresh_store, people):
    data = (
        HEADER
        + 'Kent,hub,outage,2026-03-21T09:00,"two\nlines",\nKent,hub,restored,2026-03-22T09:00,,\n'
    )
    refused(fresh_store, people["it"], data.encode(), "line 4: cannot move")


TRICKY = "<script>alert('x')</script> **bold** [link](http://x) ![img](http://x)\n,\"quoted\""


def _story(store, people):
    it, wm = people["it"], people["wm"]
    t = NOW - timedelta(days=10)
    record_status(
        store,
        wm,
        branch="west-midlands",
        system="email",
        state="outage",
        at=t,
        note=TRICKY,
        now=NOW,
    )
    record_status(
        store,
        it,
        branch="west-midlands",
        system="email",
        state="investigating",
        at=t + timedelta(days=1),
        source="phone",
        now=NOW,
    )
    record_status(
        store,
        it,
        branch="west-midlands",
        system="email",
        state="restored",
        at=t + timedelta(days=2),
        reason="verified on site",
        now=NOW,
    )
    record_status(
        store,
        wm,
        branch="west-midlands",
        system="hub",
        state="contained",
        at=t + timedelta(days=3),
        eta=(t + timedelta(days=20)).date(),
        now=NOW,
    )


def test_export_keeps_everything_and_notes_exactly(fresh_store, people):
    _story(fresh_store, people)
    rows = export_rows(fresh_store, people["it"])
    assert [r["state"] for r in rows] == ["outage", "investigating", "restored", "contained"]
    assert rows[0]["note"] == TRICKY
    assert rows[1]["source"] == "phone" and rows[2]["reason"] == "verified on site"
    assert json.loads(to_json(rows))[0]["note"] == TRICKY


def test_export_then_import_into_an_empty_database_reproduces_the_board(
    fresh_store, people, tmp_path
):
    _story(fresh_store, people)
    exported = to_csv(export_rows(fresh_store, people["it"]), raw=True)
    other = Store(f"sqlite:///{tmp_path / 'copy.db'}")
    schema.upgrade(other)
    seed_reference(other)
    for name, role, branch in (("it", "hq-it", None), ("wm", "chair", "west-midlands")):
        add_user(other, SYSTEM, username=name, role=role, branch=branch)
    assert import_csv(other, people["it"], exported.encode(), now=NOW) == 4
    cols = ["branch", "system", "state", "since", "at", "eta", "note", "updated_by"]
    assert queries.board(other)[cols].equals(queries.board(fresh_store)[cols])
    copied = export_rows(other, people["it"])
    original = export_rows(fresh_store, people["it"])
    keep = ["branch", "system", "state", "at", "note", "eta", "who", "reason", "recorded_at"]
    assert [{k: r[k] for k in keep} for r in copied] == [{k: r[k] for k in keep} for r in original]
    # Provenance: who reported it is kept; that it came in by import, and from whom, too.
    assert {(r["source"], r["entered_by"]) for r in copied} == {("import", "it")}
    other.dispose()
