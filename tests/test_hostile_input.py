"""Input that hurts (issue 8, "Seen"): year-one times, control characters, spreadsheet formulas,
forged provenance. Each is refused with one clear message and changes nothing, on both
databases; and whatever the log holds, no series reaches back before the incidents."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from conftest import NOW, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from restore import csv_safe, publishing, queries, readmodels, timelines
from restore.cli import main
from restore.directory import SYSTEM, add_incident, set_workaround
from restore.domain import STATE_IDS, RestoreError
from restore.records import ValidationError, record_status
from restore.store import branch_systems, events
from restore.transfer import ImportRefused, export_rows, import_csv, to_csv

START = NOW - timedelta(days=20)


@pytest.fixture
def attacked(fresh_store):
    add_incident(fresh_store, SYSTEM, name="Attack", started_at=START)
    return fresh_store


def rec(store, actor, **kw):
    kw = {"branch": "kent", "system": "email", "state": "outage", "now": NOW, **kw}
    return record_status(store, actor, **kw)


# --- 1. effective times far in the past --------------------------------------------------


def test_an_effective_time_long_before_the_first_incident_is_refused(attacked, people):
    before = snapshot(attacked)
    with pytest.raises(ValidationError, match=r"the earliest Restore accepts \(30 days before"):
        rec(attacked, people["it"], at=datetime(1, 1, 2, tzinfo=UTC))
    with pytest.raises(ValidationError, match="earliest"):
        rec(attacked, people["it"], at=START - timedelta(days=31))
    assert snapshot(attacked) == before
    rec(attacked, people["it"], at=START - timedelta(days=29))  # within the margin


def test_the_margin_is_configurable(attacked, people, monkeypatch):
    monkeypatch.setenv("RESTORE_BACKDATE_DAYS", "2")
    with pytest.raises(ValidationError, match=r"\(2 days before"):
        rec(attacked, people["it"], at=START - timedelta(days=3))


def test_a_year_one_time_on_the_command_line_is_a_clear_error(attacked, db_url, monkeypatch,
                                                              capsys):  # fmt: skip
    monkeypatch.setenv("RESTORE_DATABASE_URL", db_url)
    from restore.directory import add_user

    add_user(attacked, SYSTEM, username="ops", role="hq-it")
    base = ["status", "set", "--as", "ops", "--branch", "kent", "--system", "email",
            "--state", "outage"]  # fmt: skip
    assert main([*base, "--at", "0001-01-01T00:00+01:00"]) == 2
    assert "outside the range of times" in capsys.readouterr().err
    assert main([*base, "--at", "0001-01-02T00:00+00:00"]) == 2
    assert "earliest Restore accepts" in capsys.readouterr().err


def test_csv_times_near_the_limits_are_line_numbered_errors(attacked, people):
    data = (
        b"branch,system,state,at\n"
        b"kent,email,outage,0001-01-01T00:00+01:00\n"
        b"kent,hub,outage,9999-12-31T23:59-01:00\n"
        b"kent,website,outage,0001-01-02T00:00+00:00\n"
    )
    before = snapshot(attacked)
    with pytest.raises(ImportRefused) as refused:
        import_csv(attacked, people["it"], data, now=NOW)
    lines = "\n".join(refused.value.errors)
    assert "line 2:" in lines and "line 3:" in lines and "line 4:" in lines
    assert snapshot(attacked) == before


def test_no_series_reaches_back_before_the_incidents_whatever_the_log_holds(attacked, people):
    """An event slipped into the log without validation cannot stretch the charts to year 1."""
    with attacked.write() as conn:
        bs = conn.execute(select(branch_systems.c.id)).scalars().first()
        conn.execute(insert(events).values(
            branch_system_id=bs, state="outage", effective_at=datetime(1, 1, 2, tzinfo=UTC),
            recorded_at=NOW, actor="x", entered_by="x", source="cli", note="",
        ))  # fmt: skip
    readmodels.rebuild(attacked)  # as `rebuild-read-models` would take it in
    floor = pd.Timestamp(START - timedelta(days=30))
    daily = queries.progress(attacked, until=NOW)
    first_day = floor.tz_localize(None).floor("D") - timedelta(days=1)
    assert len(daily) <= 52 and pd.Timestamp(daily.index[0]) >= first_day
    assert (timelines.segments(attacked, until=NOW)["start"] >= floor).all()
    assert (timelines.durations(attacked, until=NOW)["down_at"] >= floor).all()


# --- 2. control characters ------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\x00", "a\x07b", "\x1b[31m", "x\ry", "\x7f"])
def test_control_characters_in_a_note_are_refused_on_every_database(attacked, people, bad):
    before = snapshot(attacked)
    with pytest.raises(ValidationError, match="note contains control characters"):
        rec(attacked, people["it"], note=bad)
    assert snapshot(attacked) == before


def test_tabs_newlines_and_windows_line_ends_are_kept(attacked, people):
    rec(attacked, people["it"], note="one\ttwo\r\nthree\nfour")
    assert export_rows(attacked, people["it"])[0]["note"] == "one\ttwo\nthree\nfour"


def test_a_dry_run_and_a_real_import_agree_on_a_nul_byte(attacked, people):
    data = b"branch,system,state,note\nkent,email,outage,bad\x00note\n"
    for dry in (True, False):
        with pytest.raises(ImportRefused, match="line 2: note contains control characters"):
            import_csv(attacked, people["it"], data, now=NOW, dry_run=dry)


# --- 3. spreadsheet formulas ----------------------------------------------------------------

FORMULAS = ["=1+1", "+44 7700", "-2", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_one_rule_escapes_every_formula_start(text):
    assert csv_safe.cell(text) == "'" + text
    assert csv_safe.cell("") == "" and csv_safe.cell(3) == 3 and csv_safe.cell("ok") == "ok"


def notes_in(text: str) -> list[str]:
    """Every cell of a CSV that holds the formula (or its escaped form)."""
    import csv
    import io

    return [c for row in csv.reader(io.StringIO(text)) for c in row if "HYPERLINK" in c]


def test_every_csv_restore_writes_is_spreadsheet_safe(attacked, people, db_url, monkeypatch,
                                                      capsys):  # fmt: skip
    formula = '=HYPERLINK("http://x")'
    rec(attacked, people["it"], note=formula)
    rows = export_rows(attacked, people["it"])
    assert notes_in(to_csv(rows)) == ["'" + formula]
    assert notes_in(to_csv(rows, raw=True)) == [formula]  # the exact text, for round trips
    monkeypatch.setenv("RESTORE_DATABASE_URL", db_url)
    for command in (["export"], ["board", "--format", "csv"]):
        assert main(command) == 0
        assert notes_in(capsys.readouterr().out) == ["'" + formula]
    assert main(["export", "--raw"]) == 0
    assert notes_in(capsys.readouterr().out) == [formula]
    from restore import chasing

    board = queries.board(attacked)
    overdue = chasing.overdue_rows(board.assign(eta=(NOW - timedelta(days=2)).date()), NOW)
    written = csv_safe.frame_to_csv(overdue)
    assert notes_in(written) == ["'" + formula]
    assert ",''" not in written and ",'," not in written  # empty cells stay empty


# --- 6. provenance ----------------------------------------------------------------------------


def test_an_import_cannot_put_words_in_the_mouth_of_someone_who_does_not_exist(attacked, people):
    data = b"branch,system,state,who\nkent,email,outage,ceo.impostor\n"
    before = snapshot(attacked)
    with pytest.raises(ImportRefused, match=r"who 'ceo\.impostor' is not a Restore user"):
        import_csv(attacked, people["it"], data, now=NOW)
    assert snapshot(attacked) == before


def test_an_external_reporter_is_kept_with_who_imported_it(attacked, people):
    data = b"branch,system,state,who,external,source\nkent,email,outage,Police liaison,yes,web\n"
    import_csv(attacked, people["it"], data, now=NOW)
    (row,) = export_rows(attacked, people["it"])
    assert (row["who"], row["entered_by"], row["source"]) == ("Police liaison", "it", "import")
    history = queries.history(attacked, int(row_branch_id(attacked)))
    assert history.iloc[0]["by"] == "Police liaison (imported by it)"


def row_branch_id(store) -> int:
    with store.read() as conn:
        return conn.execute(
            select(branch_systems.c.branch_id).join(
                events, events.c.branch_system_id == branch_systems.c.id
            )
        ).scalar()


# --- property: recorded whole, or refused whole -----------------------------------------------

# One database per test, reused by its examples: the property holds whatever came before.
FIXTURE_REUSE = HealthCheck.function_scoped_fixture
notes = st.text(max_size=60)
offsets = st.integers(min_value=-60 * 24 * 400, max_value=60 * 24 * 2)  # minutes from NOW


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=st.sampled_from(STATE_IDS), note=notes, minutes=offsets)
def test_any_status_write_is_recorded_whole_or_refused_leaving_nothing(attacked, people, state,
                                                                      note, minutes):  # fmt: skip
    before = snapshot(attacked)
    at = NOW + timedelta(minutes=minutes)
    try:
        event_id = rec(attacked, people["it"], state=state, note=note, at=at,
                       reason="property test", incident="Attack")  # fmt: skip
    except RestoreError:
        assert snapshot(attacked) == before
        return
    with attacked.read() as conn:
        row = conn.execute(select(events).where(events.c.id == event_id)).mappings().one()
    assert (row["state"], row["note"], row["effective_at"]) == (
        state, note.replace("\r\n", "\n"), at,
    )  # fmt: skip


cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(st.sampled_from(["kent", "essex", "atlantis"]),
                               st.sampled_from(["email", "hub", "fax"]),
                               st.sampled_from([*STATE_IDS, "broken"]), cells, cells),
                     min_size=1, max_size=6))  # fmt: skip
def test_any_csv_import_is_written_whole_or_refused_whole(attacked, people, rows):
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["branch", "system", "state", "note", "at", "incident"])
    for branch, system, state, note, at in rows:
        writer.writerow([branch, system, state, note, at, "Attack"])
    data = buf.getvalue().encode()
    before = snapshot(attacked)
    try:
        checked = import_csv(attacked, people["it"], data, now=NOW, dry_run=True)
    except RestoreError:
        checked = None
    try:
        written = import_csv(attacked, people["it"], data, now=NOW)
    except RestoreError:
        assert checked is None  # the dry run said the same
        assert snapshot(attacked) == before
        return
    assert written == checked == len(rows)
    assert len(snapshot(attacked)["events"]) == len(before["events"]) + len(rows)


@pytest.mark.parametrize(
    "write",
    [
        lambda s, p: set_workaround(s, p["it"], branch="kent", system="email",
                                    text="call\x00me"),
        lambda s, p: add_incident(s, SYSTEM, name="Bad\x1b[2J", started_at=NOW),
        lambda s, p: publishing.publish(s, p["boss"], title="Board\x07", now=NOW),
    ],
    ids=["workaround", "incident", "briefing"],
)  # fmt: skip
def test_control_characters_are_refused_in_every_text_a_user_writes(attacked, people, write):
    before = snapshot(attacked)
    with pytest.raises(ValidationError, match="contains control characters"):
        write(attacked, people)
    assert snapshot(attacked) == before


def test_an_export_leaves_a_trace_in_the_audit_log(attacked, people):
    from restore import audit

    export_rows(attacked, people["boss"])
    newest = audit.entries(attacked, limit=1).iloc[0]
    assert (newest["actor"], newest["action"]) == ("boss", "export")
