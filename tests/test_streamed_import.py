"""A streamed import (issue 9): the file is read a line at a time and appended a chunk at a
time in one transaction, so memory stays flat however long the file, and a bad line
anywhere, even the very last, still leaves the database as it was."""

import io
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from big_import import ROOT, make_org, write_event_csv
from conftest import NOW, snapshot
from sqlalchemy import func, select

from restore import queries
from restore.records import record_status
from restore.store import Store, events
from restore.transfer import MAX_LINE, MAX_PROBLEMS, ImportRefused, import_csv

SITES, SYSTEMS = ["kent", "essex"], ["email", "hub"]
END = NOW - timedelta(hours=1)


def events_in(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar()


def test_an_error_on_the_last_line_of_a_multi_chunk_file_changes_nothing_and_names_it(
    fresh_store, people, tmp_path
):
    path = tmp_path / "big.csv"
    last = write_event_csv(path, SITES, SYSTEMS, 2_500, end=END, last_line="kent,hub,sorted,,")
    before = snapshot(fresh_store)
    for dry_run in (True, False):
        with pytest.raises(ImportRefused) as refused:
            import_csv(fresh_store, people["it"], path, now=NOW, chunk_rows=1_000, dry_run=dry_run)
        (only,) = refused.value.errors
        assert only.startswith(f"line {last}: unknown state 'sorted'")
        assert snapshot(fresh_store) == before


def test_a_good_multi_chunk_file_is_written_whole(fresh_store, people, tmp_path):
    path = tmp_path / "big.csv"
    write_event_csv(path, SITES, SYSTEMS, 2_500, end=END)
    assert import_csv(fresh_store, people["it"], path, now=NOW, chunk_rows=1_000) == 2_500
    assert events_in(fresh_store) == 2_500
    board = queries.board(fresh_store).set_index(["slug", "system"])
    # 625 events each, walking outage ... restored 125 times over.
    assert {board.loc[(s, k), "state"] for s in SITES for k in SYSTEMS} == {"restored"}


def test_each_system_state_carries_across_chunks(fresh_store, people):
    data = b"branch,system,state,at\nKent,hub,contained,2026-03-21T09:00\nkent,hub,restored,\n"
    before = snapshot(fresh_store)
    with pytest.raises(ImportRefused, match="line 3: cannot move from 'contained' to 'restored'"):
        import_csv(fresh_store, people["it"], data, now=NOW, chunk_rows=1)
    assert snapshot(fresh_store) == before


def test_rows_are_checked_against_what_the_database_already_holds(fresh_store, people):
    record_status(fresh_store, people["it"], branch="kent", system="hub", state="contained",
                  at=NOW - timedelta(days=2), now=NOW)  # fmt: skip
    record_status(fresh_store, people["it"], branch="essex", system="hub", state="outage",
                  at=NOW - timedelta(days=2), now=NOW)  # fmt: skip
    data = b"branch,system,state\nessex,hub,investigating\nkent,hub,restored\n"
    before = snapshot(fresh_store)
    with pytest.raises(ImportRefused, match="line 3: cannot move from 'contained' to 'restored'"):
        import_csv(fresh_store, people["it"], data, now=NOW)
    assert snapshot(fresh_store) == before


def test_problems_are_listed_in_file_order_up_to_a_limit_then_counted(fresh_store, people):
    bad = 250
    data = "branch,system,state\n" + "".join(
        "kent,hub,outage\n" if i % 2 else "kent,fax,outage\n" for i in range(2 * bad)
    )
    before = snapshot(fresh_store)
    with pytest.raises(ImportRefused) as refused:
        import_csv(fresh_store, people["it"], data, now=NOW, chunk_rows=64)
    errors = refused.value.errors
    assert refused.value.total == bad and len(errors) == MAX_PROBLEMS + 1
    assert errors[0].startswith("line 2: Kent has no system 'fax'")
    assert [int(e.split(":")[0][5:]) for e in errors[:-1]] == list(
        range(2, 2 * MAX_PROBLEMS + 2, 2)
    )
    assert errors[-1] == f"... and {bad - MAX_PROBLEMS} more problems"
    assert f"({bad} problems)" in str(refused.value)
    assert snapshot(fresh_store) == before


GOOD = "branch,system,state,at\r\nKent,hub,outage,2026-03-21T09:00\r\nKent,email,outage,\r\n"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: GOOD.encode(), id="bytes"),
        pytest.param(lambda p: GOOD, id="text"),
        pytest.param(lambda p: io.BytesIO(b"\xef\xbb\xbf" + GOOD.encode()), id="stream-bom"),
        pytest.param(lambda p: p.write_bytes(b"\xef\xbb\xbf" + GOOD.encode()) and p, id="path"),
        pytest.param(
            lambda p: p.write_bytes(GOOD.replace("\r\n", "\r").encode()) and p,
            id="old-mac-line-ends",
        ),
    ],
)
def test_bytes_text_streams_and_paths_import_alike(fresh_store, people, tmp_path, make):
    assert import_csv(fresh_store, people["it"], make(tmp_path / "in.csv"), now=NOW) == 2
    board = queries.board(fresh_store).set_index(["slug", "system"])
    assert board.loc[("kent", "hub"), "state"] == board.loc[("kent", "email"), "state"] == "outage"


def test_a_bad_byte_deep_in_a_long_file_is_refused_naming_its_line(fresh_store, people, tmp_path):
    lines = [b"branch,system,state,note"] + [b"kent,hub,outage,caf\xc3\xa9 ok"] * 5_000
    lines[3_000] = b"kent,hub,outage,caf\xe9"  # Latin-1, the file's line 3001
    path = tmp_path / "latin.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    before = snapshot(fresh_store)
    with pytest.raises(ImportRefused) as refused:
        import_csv(fresh_store, people["it"], path, now=NOW)
    assert refused.value.errors == [
        "line 3001: the file is not UTF-8 text (byte 0xe9); save it as UTF-8"
    ]
    assert snapshot(fresh_store) == before


def test_a_file_without_line_ends_is_refused_without_reading_it_whole(fresh_store, people):
    data = b"branch,system,state\n" + b"x" * (MAX_LINE + 10)
    with pytest.raises(ImportRefused, match=r"line 2: longer than 1,048,576 characters"):
        import_csv(fresh_store, people["it"], data, now=NOW)


# --- bounded memory ---------------------------------------------------------------------------


def _peak_rss_mb(tmp_path, rows: int) -> float:
    """Peak resident memory (MB) of `python -m restore import` of `rows` rows, in its own
    process on a fresh SQLite database (20 sites x 5 systems)."""
    folder = tmp_path / str(rows)
    folder.mkdir()
    url = f"sqlite:///{folder / 'restore.db'}"
    store = Store(url)
    make_org(store, 20, 5)
    store.dispose()
    write_event_csv(folder / "events.csv", 20, 5, rows)
    proc = subprocess.Popen(
        [sys.executable, "-m", "restore", "import", str(folder / "events.csv"), "--as", "bench"],
        cwd=ROOT,
        env={**os.environ, "RESTORE_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out = proc.stdout.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not all children's
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert f"imported {rows} rows" in out
    return usage.ru_maxrss / 1024  # kilobytes on Linux


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in kilobytes on Linux only")
def test_peak_memory_does_not_grow_with_the_length_of_the_file(tmp_path):
    small, large = _peak_rss_mb(tmp_path, 10_000), _peak_rss_mb(tmp_path, 60_000)
    # Read whole (as before streaming), the 50,000 more rows took about 150 MB more.
    assert large - small < 30, (small, large)
