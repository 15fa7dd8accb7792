"""Checklist gates with evidence (issue 11): every gate, overrides, ticks and their files."""

import hashlib
import json
from datetime import timedelta

import pytest
from conftest import NOW
from recovery_kit import cast, full_snapshot, pg_template, rec_url, rstore, sqlite_template
from sqlalchemy import select

from restore import recovery
from restore.access import PermissionDenied
from restore.cli import main
from restore.domain import RuleError
from restore.records import ValidationError, record_status
from restore.store import events

__all__ = ["cast", "pg_template", "rec_url", "rstore", "sqlite_template"]  # fixtures
VERIFYING_ITEMS = ["malware-removed", "credentials-reset", "clean-backup", "patched"]
RESTORED_ITEMS = ["monitoring", "forensic-signoff"]
WM = "west-midlands"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@pytest.fixture
def people(cast):
    return cast


@pytest.fixture
def fresh_store(rstore):
    return rstore


@pytest.fixture
def db_url(rec_url):
    return rec_url


@pytest.fixture
def gated(rstore, cast):
    """The default (NCSC-based) checklist loaded, so every system type is gated."""
    assert recovery.load_default_checklist(rstore, cast["it"], now=NOW) == 6
    return rstore


def move(store, actor, state, *, system="hub", branch=WM, hours=0, **kw):
    """Record `state` `hours` before NOW (so a test's moves run in time order)."""
    return record_status(
        store,
        actor,
        branch=branch,
        system=system,
        state=state,
        at=NOW - timedelta(hours=hours),
        now=NOW,
        **kw,
    )


def tick_all(store, actor, keys, *, system="hub", branch=WM, hours=0):
    for key in keys:
        recovery.tick(
            store, actor, branch=branch, system=system, item=key, now=NOW - timedelta(hours=hours)
        )


def down_and_rebuilding(store, chair):
    move(store, chair, "outage", hours=30)
    move(store, chair, "rebuilding", hours=20)


def test_the_default_checklist_follows_the_ncsc_advice_and_loads_once(gated, people):
    keys = [i.key for i in recovery.items(gated)]
    assert keys == VERIFYING_ITEMS + RESTORED_ITEMS
    assert [i.gate for i in recovery.items(gated)] == ["verifying"] * 4 + ["restored"] * 2
    assert recovery.load_default_checklist(gated, people["it"], now=NOW) == 0


def test_a_chair_cannot_move_to_verifying_until_the_verifying_items_are_ticked(gated, people):
    down_and_rebuilding(gated, people["wm"])
    tick_all(gated, people["wm"], VERIFYING_ITEMS[:2])
    before = full_snapshot(gated)
    with pytest.raises(recovery.GateError) as refused:
        move(gated, people["wm"], "verifying", hours=10)
    message = str(refused.value)
    assert "West Midlands hub cannot move to 'verifying'" in message
    assert all(f"[{k}]" in message for k in VERIFYING_ITEMS[2:])
    assert not any(f"[{k}]" in message for k in VERIFYING_ITEMS[:2] + RESTORED_ITEMS)
    assert isinstance(refused.value, RuleError)
    assert full_snapshot(gated) == before
    tick_all(gated, people["wm"], VERIFYING_ITEMS[2:])
    move(gated, people["wm"], "verifying", hours=10)


def test_hq_it_cannot_restore_until_every_item_is_ticked_unless_it_overrides(gated, people):
    down_and_rebuilding(gated, people["wm"])
    tick_all(gated, people["wm"], VERIFYING_ITEMS)
    move(gated, people["wm"], "verifying", hours=10)
    for state in ("restored", "degraded"):
        with pytest.raises(recovery.GateError, match=r"\[monitoring\].*\[forensic-signoff\]"):
            move(gated, people["it"], state, hours=5)
    event_id = move(gated, people["it"], "restored", hours=5, reason="forensics report late")
    with gated.read() as conn:
        reason = conn.execute(select(events.c.override_reason).where(events.c.id == event_id))
        assert reason.scalar() == "forensics report late"


def test_with_every_item_ticked_hq_it_restores_without_an_override(gated, people):
    down_and_rebuilding(gated, people["wm"])
    tick_all(gated, people["it"], VERIFYING_ITEMS + RESTORED_ITEMS)
    move(gated, people["wm"], "verifying", hours=10)
    move(gated, people["it"], "restored", hours=5)


def test_hq_it_may_override_the_verifying_gate_with_a_reason_only(gated, people):
    down_and_rebuilding(gated, people["wm"])
    with pytest.raises(recovery.GateError, match=r"\[patched\]"):
        move(gated, people["it"], "verifying", hours=10)
    before = full_snapshot(gated)
    with pytest.raises(recovery.GateError):  # a reason alone does not let a chair through
        move(gated, people["wm"], "verifying", hours=10, reason="trust me")
    assert full_snapshot(gated) == before
    move(gated, people["it"], "verifying", hours=10, reason="checked by phone with the chair")


def test_check_ins_attacks_and_first_reports_pass_no_gate(gated, people):
    move(gated, people["wm"], "operational", hours=40)
    move(gated, people["wm"], "contained", hours=30)
    move(gated, people["wm"], "contained", hours=29)  # a check-in
    move(gated, people["wm"], "rebuilding", hours=20)
    move(gated, people["wm"], "outage", hours=10)


def test_a_system_type_without_checklist_items_is_not_gated(fresh_store, people):
    it = people["it"]
    recovery.save_item(
        fresh_store,
        it,
        key="mx-clean",
        title="Mail queues purged",
        gate="verifying",
        applies_to=["email"],
        now=NOW,
    )
    down_and_rebuilding(fresh_store, people["wm"])
    move(fresh_store, people["wm"], "verifying", hours=10)  # the Hub has no checklist
    move(fresh_store, people["wm"], "outage", system="email", hours=30)
    with pytest.raises(recovery.GateError, match=r"Mail queues purged \[mx-clean\]"):
        move(fresh_store, people["wm"], "verifying", system="email", hours=10)
    with pytest.raises(ValidationError, match="not on the hub checklist"):
        recovery.tick(fresh_store, it, branch=WM, system="hub", item="mx-clean", now=NOW)


def test_a_retired_item_gates_nothing_and_hq_it_edits_items_per_system_type(gated, people):
    it = people["it"]
    for key in VERIFYING_ITEMS[1:]:
        recovery.retire_item(gated, it, key=key, now=NOW)
    recovery.save_item(
        gated,
        it,
        key="malware-removed",
        title="Host reimaged",
        gate="verifying",
        applies_to=["email", "website"],
        now=NOW,
    )
    down_and_rebuilding(gated, people["wm"])
    move(gated, people["wm"], "verifying", hours=10)  # hub: only restored-gate items left
    shown = recovery.checklist(gated, branch=WM, system="email")
    assert [i["key"] for i in shown] == ["malware-removed", *RESTORED_ITEMS]
    assert shown[0]["title"] == "Host reimaged"


def test_only_hq_it_edits_the_checklist(gated, people):
    before = full_snapshot(gated)
    for who in ("wm", "boss"):
        with pytest.raises(PermissionDenied):
            recovery.save_item(gated, people[who], key="x", title="X", gate="verifying", now=NOW)
    with pytest.raises(ValidationError, match=r"gate 'later'.*unknown system types: fax"):
        recovery.save_item(
            gated, people["it"], key="x", title="X", gate="later", applies_to=["fax"], now=NOW
        )
    assert full_snapshot(gated) == before


def test_a_reinfected_system_is_checked_again(gated, people):
    down_and_rebuilding(gated, people["wm"])
    tick_all(gated, people["wm"], VERIFYING_ITEMS + RESTORED_ITEMS, hours=15)
    move(gated, people["wm"], "verifying", hours=10)
    move(gated, people["it"], "restored", hours=9)
    assert all(i["done"] for i in recovery.checklist(gated, branch=WM, system="hub"))
    move(gated, people["wm"], "contained", hours=8)
    move(gated, people["wm"], "rebuilding", hours=7)
    assert not any(i["done"] for i in recovery.checklist(gated, branch=WM, system="hub"))
    with pytest.raises(recovery.GateError, match=r"\[malware-removed\]"):
        move(gated, people["wm"], "verifying", hours=6)


def test_a_chair_ticks_only_their_own_branch_and_leadership_not_at_all(gated, people):
    before = full_snapshot(gated)
    for who in ("kent", "boss", "anon"):
        with pytest.raises(PermissionDenied):
            recovery.tick(gated, people[who], branch=WM, system="hub", item="patched", now=NOW)
    assert full_snapshot(gated) == before
    recovery.tick(gated, people["kent"], branch="kent", system="hub", item="patched", now=NOW)


def test_ticks_are_events_with_who_when_and_note(gated, people):
    recovery.tick(
        gated,
        people["wm"],
        branch=WM,
        system="hub",
        item="patched",
        note="KB5031356 applied",
        now=NOW - timedelta(hours=2),
    )
    recovery.tick(
        gated, people["it"], branch=WM, system="hub", item="patched", note="checked again", now=NOW
    )
    item = next(
        i for i in recovery.checklist(gated, branch=WM, system="hub") if i["key"] == "patched"
    )
    assert item["done"] and item["gate"] == "verifying"
    assert [(t["who"], t["note"]) for t in item["ticks"]] == [
        ("wm", "KB5031356 applied"),
        ("it", "checked again"),
    ]
    assert item["ticks"][1]["when"] == NOW.isoformat()


def test_unknown_items_and_bad_notes_are_refused_naming_the_problem(gated, people):
    before = full_snapshot(gated)
    with pytest.raises(ValidationError, match=r"unknown checklist item 'pached'.*patched"):
        recovery.tick(gated, people["wm"], branch=WM, system="hub", item="pached", now=NOW)
    with pytest.raises(ValidationError, match="control characters"):
        recovery.tick(
            gated,
            people["wm"],
            branch=WM,
            system="hub",
            item="patched",
            note="bad\x00note",
            now=NOW,
        )
    assert full_snapshot(gated) == before


# --- evidence files ---------------------------------------------------------------------


FILES = [
    ("forensic-clearance.pdf", PDF, "pdf"),
    ("edr-console.PNG", PNG, "png"),
    ("scan.log", "Scan complete: 0 threats\r\nÜbersicht ✓\n".encode(), "text"),
]


def test_evidence_files_round_trip_byte_for_byte_with_their_hash(gated, people):
    for name, data, _kind in FILES:
        recovery.tick(
            gated,
            people["wm"],
            branch=WM,
            system="hub",
            item="malware-removed",
            file_name=name,
            file_data=data,
            now=NOW,
        )
    ticks = recovery.checklist(gated, branch=WM, system="hub")[0]["ticks"]
    for tick, (name, data, kind) in zip(ticks, FILES, strict=True):
        (file,) = tick["files"]
        assert (file["name"], file["sha256"]) == (name, hashlib.sha256(data).hexdigest())
        got = recovery.evidence_file(gated, people["it"], file["id"], now=NOW)
        assert got == (name, kind, data, file["sha256"])


def test_only_hq_it_downloads_evidence(gated, people):
    recovery.tick(
        gated,
        people["wm"],
        branch=WM,
        system="hub",
        item="patched",
        file_name="a.txt",
        file_data=b"ok\n",
        now=NOW,
    )
    file_id = recovery.checklist(gated, branch=WM, system="hub")[3]["ticks"][0]["files"][0]["id"]
    for who in ("wm", "boss", "anon"):
        with pytest.raises(PermissionDenied):
            recovery.evidence_file(gated, people[who], file_id)


REFUSED = [
    ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "limit is 10 MB"),
    ("invoice.pdf", b"MZ\x90\x00 this is a program", "named as a PDF but its contents are not"),
    ("photo.png", PDF, "named as a PNG picture but its contents are not"),
    ("notes.txt", b"text\x00with a NUL", r"plain text \(UTF-8\) but its contents are not"),
    ("notes.txt", b"\xff\xfe latin-1 \xe9", r"plain text \(UTF-8\) but its contents are not"),
    ("setup.exe", b"%PDF-1.4 pretending", "only PDF, PNG or text files"),
    ("empty.txt", b"", "is empty"),
]


def test_an_oversize_or_wrong_type_file_is_refused_whole(gated, people):
    before = full_snapshot(gated)
    for name, data, words in REFUSED:
        batch = [
            recovery.Tick(WM, "hub", "patched", note="fine"),
            recovery.Tick(WM, "hub", "malware-removed", file_name=name, file_data=data),
        ]
        with pytest.raises(ValidationError, match=words):
            recovery.tick_many(gated, people["wm"], batch, now=NOW)
    assert full_snapshot(gated) == before


def test_every_tick_is_audited(gated, people):
    from restore import audit

    recovery.tick(
        gated,
        people["wm"],
        branch=WM,
        system="hub",
        item="patched",
        file_name="p.txt",
        file_data=b"patched\n",
        now=NOW,
    )
    found = audit.entries(gated)
    last = found[found["action"] == "checklist.tick"].iloc[-1]
    assert (last["action"], last["subject"], last["actor"]) == ("checklist.tick", f"{WM}:hub", "wm")
    assert hashlib.sha256(b"patched\n").hexdigest() in last["details"]
    assert audit.verify(gated).ok


# --- the command line -------------------------------------------------------------------


def test_cli_ticks_with_evidence_and_shows_the_documented_json(
    gated, people, db_url, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("RESTORE_DATABASE_URL", db_url)
    proof = tmp_path / "clearance.pdf"
    proof.write_bytes(PDF)
    args = [
        "checklist",
        "tick",
        "--as",
        "wm",
        "--branch",
        WM,
        "--system",
        "hub",
        "--item",
        "malware-removed",
        "--note",
        "reimaged",
        "--evidence",
        str(proof),
    ]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["checklist", "show", "--branch", WM, "--system", "hub", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [i["key"] for i in shown] == VERIFYING_ITEMS + RESTORED_ITEMS
    first = shown[0]
    assert set(first) == {"key", "title", "gate", "done", "ticks"}
    assert (first["gate"], first["done"], shown[1]["done"]) == ("verifying", True, False)
    (tick,) = first["ticks"]
    assert set(tick) == {"who", "when", "note", "files"}
    assert (tick["who"], tick["note"]) == ("wm", "reimaged")
    assert tick["files"] == [{"name": "clearance.pdf", "sha256": hashlib.sha256(PDF).hexdigest()}]
    proof.write_bytes(b"MZ" + PDF)
    assert main(args) == 2
    assert "its contents are not" in capsys.readouterr().err
    assert main(["checklist", "show", "--branch", WM, "--system", "hub"]) == 0
    assert "malware-removed" in capsys.readouterr().out
