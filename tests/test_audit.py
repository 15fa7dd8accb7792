"""The audit log: one chained entry per write, append-only, tampering found, CSV for a regulator."""

import argparse
import csv
import io
import itertools
import json
import threading
from datetime import timedelta

import pytest
from conftest import NOW
from sqlalchemy import select, update

from restore import audit, cli, publishing
from restore.audit.cli import register
from restore.audit.log import GENESIS, audit_log
from restore.auth import SignInFailed, sign_in
from restore.directory import SYSTEM, add_user, set_workaround


def rows(store, action=None) -> list[dict]:
    """Audit entries, oldest first, details parsed (optionally only one action)."""
    q = select(audit_log).order_by(audit_log.c.id)
    if action:
        q = q.where(audit_log.c.action == action)
    with store.read() as conn:
        return [dict(r) | {"details": json.loads(r["details"])} for r in conn.execute(q).mappings()]


def count(store) -> int:
    return len(rows(store))


def tamper(store, sql: str) -> None:
    """Change the log behind the triggers' back, as someone with the database's keys could."""
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER ALL")
        conn.exec_driver_sql(sql)


# --- the chain -----------------------------------------------------------------


def test_seeding_is_audited_and_the_chain_verifies(fresh_store):
    entries = rows(fresh_store)
    assert {e["action"] for e in entries} == {"branch.add", "system.add"}
    assert entries[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))
    result = audit.verify(fresh_store)
    assert (result.ok, result.checked, result.head) == (True, len(entries), entries[-1]["hash"])
    assert result.message() == f"audit chain intact: {len(entries)} entries"


def test_an_empty_log_verifies(db_url):
    from restore import schema
    from restore.store import Store

    store = Store(db_url)
    schema.upgrade(store)
    assert audit.verify(store).ok and audit.verify(store).checked == 0
    store.dispose()


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ('UPDATE audit_log SET details = \'{"new":"call 0900 000"}\' WHERE id = 3', "contents"),
        ("UPDATE audit_log SET actor = 'someone' WHERE id = 3", "contents"),
        ("DELETE FROM audit_log WHERE id = 3", "does not link"),
    ],
)
def test_a_changed_or_removed_entry_is_found_with_its_id(fresh_store, sql, why):
    tamper(fresh_store, sql)
    result = audit.verify(fresh_store)
    broken = 4 if sql.startswith("DELETE") else 3
    assert (result.ok, result.broken_id, result.checked) == (False, broken, 2)
    assert why in result.reason
    assert result.message().startswith(f"audit chain broken at entry {broken}: ")


def test_the_database_refuses_to_change_or_delete_an_entry(fresh_store):
    for statement in (
        update(audit_log).where(audit_log.c.id == 1).values(actor="x"),
        audit_log.delete().where(audit_log.c.id == 1),
    ):
        with pytest.raises(Exception, match="append-only"), fresh_store.write() as conn:
            conn.execute(statement)
    assert audit.verify(fresh_store).ok


def test_an_entry_rolls_back_with_the_write_it_describes(fresh_store):
    before = count(fresh_store)
    with pytest.raises(RuntimeError), fresh_store.write() as conn:
        audit.record(conn, actor="it", action="user.add", subject="ghost", now=NOW)
        raise RuntimeError("the write failed after its entry")
    assert count(fresh_store) == before


def test_concurrent_writers_never_fork_the_chain(fresh_store):
    errors = []

    def append(n: int) -> None:
        try:
            for i in range(5):
                with fresh_store.write() as conn:
                    audit.record(conn, actor=f"w{n}", action="test", subject=str(i))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    before = count(fresh_store)
    threads = [threading.Thread(target=append, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    entries = rows(fresh_store)
    assert len(entries) == before + 30
    assert [e["id"] for e in entries] == list(range(1, len(entries) + 1))
    assert audit.verify(fresh_store).ok


# --- what is audited -------------------------------------------------------------


def test_sign_ins_both_ways_and_sign_outs_are_audited(fresh_store):
    from restore.auth import end_session, start_session

    add_user(fresh_store, SYSTEM, username="wm", role="hq-it", password="correct horse")
    with pytest.raises(SignInFailed):
        sign_in(fresh_store, "wm", "wrong", now=NOW)
    with pytest.raises(SignInFailed):
        sign_in(fresh_store, "nobody", "wrong", now=NOW)
    sign_in(fresh_store, "wm", "correct horse", now=NOW)
    cookie = start_session(fresh_store, "wm", now=NOW)
    end_session(fresh_store, cookie, now=NOW)
    end_session(fresh_store, cookie, now=NOW)  # already ended: no second entry
    failed = rows(fresh_store, "signin.failed")
    assert [(e["actor"], e["subject"], e["details"]["reason"]) for e in failed] == [
        ("anonymous", "wm", "wrong password"),
        ("anonymous", "nobody", "unknown user"),
    ]
    assert [(e["actor"], e["subject"]) for e in rows(fresh_store, "signin.ok")] == [("wm", "wm")]
    assert [(e["actor"], e["at"]) for e in rows(fresh_store, "signout")] == [("wm", NOW)]


def test_the_fifth_failure_records_the_lockout(fresh_store):
    add_user(fresh_store, SYSTEM, username="wm", role="hq-it", password="correct horse")
    for _ in range(6):
        with pytest.raises(SignInFailed):
            sign_in(fresh_store, "wm", "wrong", now=NOW)
    reasons = [e["details"] for e in rows(fresh_store, "signin.failed")]
    assert reasons[4] == {
        "reason": "wrong password",
        "locked_until": "2026-04-01T12:15:00.000000+00:00",
    }
    assert reasons[5]["reason"] == "account locked"


def test_publishing_a_briefing_is_audited(fresh_store, people):
    new_id = publishing.publish(
        fresh_store, people["boss"], title="Week 1", as_of=NOW, images=(b"p", b"g"), now=NOW
    )
    (entry,) = rows(fresh_store, "briefing.publish")
    assert (entry["actor"], entry["subject"]) == ("boss", str(new_id))
    assert entry["details"]["title"] == "Week 1"


def test_a_refused_publish_leaves_no_entry(fresh_store, people):
    before = count(fresh_store)
    with pytest.raises(Exception, match="may not"):
        publishing.publish(fresh_store, people["wm"], title="No", as_of=NOW, now=NOW)
    assert count(fresh_store) == before


# --- reading it back -------------------------------------------------------------


def test_entries_are_newest_first_and_limited(fresh_store):
    frame = audit.entries(fresh_store, limit=3)
    assert len(frame) == 3 and list(frame["id"]) == sorted(frame["id"], reverse=True)
    assert list(frame.columns) == [
        "id", "at", "actor", "action", "subject", "details", "prev_hash", "hash",
    ]  # fmt: skip


def test_csv_for_the_regulator_has_every_entry_and_defuses_formulas(fresh_store, people):
    with pytest.raises(SignInFailed):
        sign_in(fresh_store, '=HYPERLINK("http://evil.example")', "x", now=NOW)
    set_workaround(
        fresh_store, people["it"], branch="kent", system="email", text="@SUM(1)", now=NOW
    )
    parsed = list(csv.DictReader(io.StringIO(audit.to_csv(fresh_store))))
    assert len(parsed) == count(fresh_store)
    assert [int(r["id"]) for r in parsed] == list(range(1, len(parsed) + 1))
    failed = next(r for r in parsed if r["action"] == "signin.failed")
    assert failed["subject"] == '\'=HYPERLINK("http://evil.example")'
    assert parsed[-1]["details"].startswith("{")  # JSON is not a formula
    assert parsed[0]["prev_hash"] == GENESIS


# --- the command line ------------------------------------------------------------


def with_audit_commands(monkeypatch) -> None:
    """cli.build_parser with the audit commands, registered here until cli.py does it."""
    original = cli.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "audit" not in sub.choices:

            def add(name, func, help_, parent=sub):
                cmd = parent.add_parser(name, help=help_, description=help_)
                cmd.set_defaults(func=func)
                return cmd

            register(sub, add)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)


@pytest.fixture
def run_cli(db_url, monkeypatch):
    """restore.cli.main, with the audit commands, on an initialised and seeded database."""
    monkeypatch.setenv("RESTORE_DATABASE_URL", db_url)
    with_audit_commands(monkeypatch)
    assert cli.main(["init"]) == 0 and cli.main(["seed"]) == 0
    return cli.main


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "export"], ["backup"],
                                     ["restore"]], ids=" ".join)  # fmt: skip
def test_every_audit_command_has_help(run_cli, command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.build_parser().parse_args([*command, "--help"])
    assert done.value.code == 0 and "usage: python -m restore" in capsys.readouterr().out


def test_audit_verify_says_intact_or_names_the_broken_entry(run_cli, capsys):
    from restore.store import Store

    store = Store(cli.database_url())
    assert run_cli(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"audit chain intact: {count(store)} entries\nnewest hash: ")
    tamper(store, "UPDATE audit_log SET subject = 'narnia' WHERE id = 5")
    store.dispose()
    assert run_cli(["audit", "verify"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: audit chain broken at entry 5: its contents do not match")


def test_audit_export_writes_csv_to_a_file_or_stdout(run_cli, capsys, tmp_path):
    assert run_cli(["audit", "export"]) == 0
    assert capsys.readouterr().out.startswith("id,at,actor,action,subject,details")
    out = tmp_path / "audit.csv"
    assert run_cli(["audit", "export", "--output", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    from restore.store import Store

    store = Store(cli.database_url())
    assert len(out.read_text().splitlines()) == 1 + count(store)
    store.dispose()


def test_audit_timestamps_survive_a_round_trip_exactly(fresh_store):
    at = NOW + timedelta(microseconds=123456)
    with fresh_store.write() as conn:
        audit.record(conn, actor="it", action="test", details={"when": at}, now=at)
    last = rows(fresh_store)[-1]
    assert last["at"] == at and last["details"] == {"when": "2026-04-01T12:00:00.123456+00:00"}
    assert audit.verify(fresh_store).ok
