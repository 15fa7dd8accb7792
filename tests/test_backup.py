"""Backups: one file holds everything; it restores into an empty database on either backend."""

import gzip
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import NOW, pg_schema, snapshot
from sqlalchemy import func, select
from test_audit import with_audit_commands

from restore import audit, cli, publishing, queries, schema
from restore.access import PermissionDenied
from restore.audit import BackupError
from restore.audit.log import audit_log
from restore.demo import seed_demo
from restore.directory import SYSTEM, add_branch, add_user
from restore.records import record_status
from restore.store import Store, settings, users
from restore.transfer import export_rows

DAY0 = date(2026, 2, 1)
DEMO_NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


@pytest.fixture
def other_url(db_url, tmp_path):
    """A second, empty database on the same backend as db_url."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    with pg_schema() as url:
        yield url


def demo_store(url: str) -> Store:
    """The demo story with one published briefing (chart pictures included)."""
    store = Store(url)
    schema.upgrade(store)
    seed_demo(store, start=DAY0, now=DEMO_NOW)
    publishing.publish(
        store, SYSTEM, title="Week 6", note="Steady.", as_of=DEMO_NOW, now=DEMO_NOW,
        images=(b"\x89PNG progress", b"\x89PNG grid"),
    )  # fmt: skip
    return store


def state(store: Store) -> dict:
    """What a restore must reproduce: the log, the board, the briefings."""
    board = queries.board(store).sort_values(["slug", "system"]).reset_index(drop=True)
    ids = publishing.published(store)["id"].tolist()
    return {
        "export": export_rows(store, SYSTEM),
        "board": board.astype(object).where(board.notna(), None).to_dict("records"),
        "briefings": [publishing.load(store, i) for i in ids],
        "users": user_rows(store),
    }


def user_rows(store: Store) -> list[tuple]:
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(select(users).order_by(users.c.id))]


def audit_count(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(audit_log)).scalar_one()


def test_the_demo_goes_from_sqlite_to_postgresql_and_back_unchanged(sqlite_url, pg_url, tmp_path):
    first = demo_store(sqlite_url)
    audit.backup(first, SYSTEM, tmp_path / "one.json.gz", now=DEMO_NOW)
    pg = Store(pg_url)  # no schema: restore creates it
    audit.restore(pg, SYSTEM, tmp_path / "one.json.gz", now=DEMO_NOW)
    audit.backup(pg, SYSTEM, tmp_path / "two.json", now=DEMO_NOW)
    back = Store(f"sqlite:///{tmp_path / 'back.db'}")
    audit.restore(back, SYSTEM, tmp_path / "two.json", now=DEMO_NOW)

    expected = state(first)
    assert expected["export"] and expected["briefings"][0]["grid_png"] == b"\x89PNG grid"
    for store in (pg, back):
        assert state(store) == expected
        assert audit.verify(store).ok
    actions = [a for a in audit.entries(back, limit=None)["action"] if a != "export"]
    assert actions[:3] == ["restore", "restore", "briefing.publish"]  # newest first
    for store in (first, pg, back):
        store.dispose()


def test_backup_and_restore_on_the_same_backend(fresh_store, people, other_url, tmp_path):
    record_status(fresh_store, people["it"], branch="kent", system="email", state="outage",
                  at=NOW - timedelta(hours=1), now=NOW)  # fmt: skip
    counts = audit.backup(fresh_store, people["it"], tmp_path / "b.json", now=NOW)
    assert counts["users"] == 4 and counts["events"] == 1
    other = Store(other_url)
    schema.upgrade(other)  # `init` first is fine too
    assert audit.restore(other, people["it"], tmp_path / "b.json", now=NOW) == counts
    assert state(other) == state(fresh_store)
    # the sequences moved past the restored ids: new rows get new ids
    add_branch(other, people["it"], name="Isle of Man", slug="isle-of-man", region="North West")
    add_user(other, people["it"], username="newcomer", role="leadership")
    record_status(other, people["it"], branch="isle-of-man", system="email", state="outage",
                  at=NOW, now=NOW)  # fmt: skip
    assert audit.verify(other).ok
    other.dispose()


def test_the_backup_file_holds_everything_but_the_cookie_key(fresh_store, people, tmp_path):
    from restore.auth import start_session

    start_session(fresh_store, "wm", now=NOW)  # creates the cookie key and a session
    audit.backup(fresh_store, people["it"], tmp_path / "b.json.gz", now=NOW)
    data = json.loads(gzip.decompress((tmp_path / "b.json.gz").read_bytes()))
    assert (data["format"], data["version"], data["schema_revision"]) == (
        "restore-backup", 1, schema.current_revision(fresh_store),
    )  # fmt: skip
    assert "sessions" not in data["tables"] and "sign_in_tickets" not in data["tables"]
    assert [s["key"] for s in data["tables"]["settings"]] == ["revision"]
    with fresh_store.read() as conn:
        assert conn.execute(select(settings.c.key).where(settings.c.key == "cookie_key")).first()
    wm = next(u for u in data["tables"]["users"] if u["username"] == "wm")
    assert set(wm) >= {"password_hash", "email", "phone", "role", "branch_id", "active"}
    assert set(data["tables"]["branch_systems"][0]) >= {"workaround", "created_at", "note_event_id"}


def test_a_backup_is_audited_with_the_files_digest(fresh_store, people, tmp_path):
    import hashlib

    audit.backup(fresh_store, people["it"], tmp_path / "b.json", now=NOW)
    entry = audit.entries(fresh_store, limit=1).iloc[0]
    details = json.loads(entry["details"])
    assert (entry["action"], entry["actor"], entry["subject"]) == ("backup", "it", "b.json")
    assert details["sha256"] == hashlib.sha256((tmp_path / "b.json").read_bytes()).hexdigest()


def test_restoring_into_a_database_that_holds_anything_is_refused_writing_nothing(
    fresh_store, people, tmp_path
):
    audit.backup(fresh_store, people["it"], tmp_path / "b.json", now=NOW)
    before, entries = snapshot(fresh_store), audit_count(fresh_store)
    with pytest.raises(BackupError, match=r"not empty \(it holds 44 branches, 3 systems, 4 users"):
        audit.restore(fresh_store, people["it"], tmp_path / "b.json", now=NOW)
    assert snapshot(fresh_store) == before and audit_count(fresh_store) == entries


@pytest.mark.parametrize(
    ("spoil", "match"),
    [
        (lambda b: b[:100], "not a readable backup"),
        (lambda b: json.dumps({"format": "other"}).encode(), "not a Restore backup"),
        (lambda b: b.replace(b'"version":1', b'"version":9'), "format version 9"),
        (lambda b: re.sub(rb'"schema_revision":"\w+"', b'"schema_revision":"0001"', b),
         "schema revision 0001"),
        (lambda b: b.replace(b'"region":"South East"', b'"region":"South East","x":1', 1),
         "columns this schema lacks"),
        (lambda b: b.replace(b'"actor":"system"', b'"actor":"mallory"', 1),
         "chain broken at entry 1: its contents do not match"),
    ],
)  # fmt: skip
def test_a_bad_backup_file_is_refused_writing_nothing(fresh_store, people, other_url, tmp_path,
                                                      spoil, match):  # fmt: skip
    audit.backup(fresh_store, people["it"], tmp_path / "b.json", now=NOW)
    bad = tmp_path / "bad.json"
    bad.write_bytes(spoil((tmp_path / "b.json").read_bytes()))
    other = Store(other_url)
    schema.upgrade(other)
    before = snapshot(other)
    with pytest.raises(BackupError, match=match):
        audit.restore(other, people["it"], bad, now=NOW)
    assert snapshot(other) == before and audit_count(other) == 0
    other.dispose()


def test_a_missing_file_is_a_clear_error(fresh_store, people, tmp_path):
    with pytest.raises(BackupError, match="cannot read"):
        audit.restore(fresh_store, people["it"], tmp_path / "nope.json")


@pytest.mark.parametrize("who", ["wm", "boss", "anon"])
def test_only_hq_it_backs_up_and_restores(fresh_store, people, tmp_path, who):
    entries = audit_count(fresh_store)
    with pytest.raises(PermissionDenied):
        audit.backup(fresh_store, people[who], tmp_path / "b.json")
    with pytest.raises(PermissionDenied):
        audit.restore(fresh_store, people[who], tmp_path / "b.json")
    assert not (tmp_path / "b.json").exists() and audit_count(fresh_store) == entries


def test_a_tampered_entry_in_a_restored_database_is_found_by_its_id(
    fresh_store, people, other_url, tmp_path
):
    audit.backup(fresh_store, people["it"], tmp_path / "b.json", now=NOW)
    other = Store(other_url)
    audit.restore(other, people["it"], tmp_path / "b.json", now=NOW)
    with other.engine.begin() as conn:
        if other.dialect == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER ALL")
        conn.exec_driver_sql("UPDATE audit_log SET subject = 'narnia' WHERE id = 7")
    result = audit.verify(other)
    assert (result.ok, result.broken_id) == (False, 7)
    other.dispose()


# --- the command line ------------------------------------------------------------


def test_backup_and_restore_commands(db_url, other_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RESTORE_DATABASE_URL", db_url)
    with_audit_commands(monkeypatch)
    assert cli.main(["init"]) == 0 and cli.main(["seed"]) == 0
    out = tmp_path / "b.json.gz"
    assert cli.main(["backup", "--output", str(out)]) == 0
    assert f"wrote {out}: 44 branches, 3 systems" in capsys.readouterr().out
    assert cli.main(["restore", str(out)]) == 2  # the same, non-empty, database
    assert "error: the database is not empty" in capsys.readouterr().err
    monkeypatch.setenv("RESTORE_DATABASE_URL", other_url)
    assert cli.main(["restore", str(out)]) == 0
    said = capsys.readouterr().out
    assert "44 branches" in said and "audit chain intact: 48 entries" in said
    assert cli.main(["audit", "verify"]) == 0
