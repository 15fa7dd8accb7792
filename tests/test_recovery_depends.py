"""Dependencies (issue 11): cycles refused, blocked-by through levels, the verifying gate,
the critical path, the forecast's warning and the board's JSON."""

import json
from datetime import date, timedelta

import pytest
from conftest import NOW
from recovery_kit import cast, full_snapshot, pg_template, rec_url, rstore, sqlite_template

from restore import recovery
from restore.access import PermissionDenied
from restore.cli import main
from restore.records import NotFound, ValidationError, record_status

__all__ = ["cast", "pg_template", "rec_url", "rstore", "sqlite_template"]  # fixtures


def depend(store, actor, who: str, on: str):
    branch, system = who.split(":")
    return recovery.add_dependency(store, actor, branch=branch, system=system, on=on, now=NOW)


def set_state(store, cast, key: str, state: str, *, hours: float = 1, eta=None, reason=None):
    branch, system = key.split(":")
    record_status(
        store,
        cast["it"],
        branch=branch,
        system=system,
        state=state,
        eta=eta,
        at=NOW - timedelta(hours=hours),
        now=NOW,
        reason=reason,
    )


def test_a_cycle_is_refused_naming_it_and_nothing_is_written(rstore, cast):
    depend(rstore, cast["it"], "kent:website", "kent:hub")
    depend(rstore, cast["it"], "kent:hub", "hq:hub")
    before = full_snapshot(rstore)
    with pytest.raises(recovery.CycleError, match="hq:hub -> kent:website -> kent:hub -> hq:hub"):
        depend(rstore, cast["it"], "hq:hub", "kent:website")
    with pytest.raises(recovery.CycleError, match="kent:hub cannot depend on itself"):
        depend(rstore, cast["it"], "kent:hub", "kent:hub")
    with pytest.raises(ValidationError, match="must be BRANCH:SYSTEM"):
        depend(rstore, cast["it"], "kent:hub", "hq")
    with pytest.raises(NotFound):
        depend(rstore, cast["it"], "kent:hub", "atlantis:hub")
    assert full_snapshot(rstore) == before
    assert depend(rstore, cast["it"], "kent:website", "kent:hub") is False  # already there


def test_only_hq_it_declares_or_removes_dependencies(rstore, cast):
    before = full_snapshot(rstore)
    for who in ("wm", "boss", "anon"):
        with pytest.raises(PermissionDenied):
            depend(rstore, cast[who], "west-midlands:email", "hq:email")
    assert full_snapshot(rstore) == before
    depend(rstore, cast["it"], "west-midlands:email", "hq:email")
    with pytest.raises(PermissionDenied):
        recovery.remove_dependency(
            rstore, cast["wm"], branch="west-midlands", system="email", on="hq:email"
        )
    recovery.remove_dependency(
        rstore, cast["it"], branch="west-midlands", system="email", on="hq:email", now=NOW
    )
    assert recovery.dependencies(rstore) == []
    with pytest.raises(NotFound, match="does not depend on"):
        recovery.remove_dependency(
            rstore, cast["it"], branch="west-midlands", system="email", on="hq:email"
        )


def test_the_default_dependencies_put_every_branch_email_on_hq_email_and_hub_on_hq_hub(
    rstore, cast
):
    added = recovery.load_default_dependencies(rstore, cast["it"], now=NOW)
    assert added == 2 * 43
    found = {(d["system"], d["on"]) for d in recovery.dependencies(rstore)}
    assert ("kent:email", "hq:email") in found and ("kent:hub", "hq:hub") in found
    assert not any(d.startswith("hq:") for d, _ in found)
    assert recovery.load_default_dependencies(rstore, cast["it"], now=NOW) == 0


def test_blocked_by_propagates_through_two_levels(rstore, cast):
    depend(rstore, cast["it"], "kent:website", "kent:hub")
    depend(rstore, cast["it"], "kent:hub", "hq:hub")
    depend(rstore, cast["it"], "kent:email", "hq:email")
    set_state(rstore, cast, "hq:hub", "rebuilding", hours=5)
    set_state(rstore, cast, "kent:hub", "outage", hours=4)
    set_state(rstore, cast, "hq:email", "operational", hours=4)
    blocked = recovery.blocked_by(rstore)
    assert blocked["kent:website"] == ["kent:hub", "hq:hub"]
    assert blocked["kent:hub"] == ["hq:hub"]
    assert blocked["kent:email"] == [] and blocked["hq:hub"] == []
    assert len(blocked) == 44 * 3
    # kent:hub back in service: the website still waits on HQ's Hub, two levels down
    set_state(rstore, cast, "kent:hub", "verifying", hours=3, reason="test set-up")
    set_state(rstore, cast, "kent:hub", "restored", hours=2, reason="test set-up")
    assert recovery.blocked_by(rstore)["kent:website"] == ["hq:hub"]
    (blocker,) = recovery.blockers(rstore)["kent:website"]
    assert blocker.describe() == "Headquarters · The Hub (Rebuilding / restoring from backup)"


def test_a_system_cannot_be_verified_while_what_it_depends_on_is_out(rstore, cast):
    depend(rstore, cast["it"], "west-midlands:email", "hq:email")
    set_state(rstore, cast, "hq:email", "contained", hours=5)
    record_status(
        rstore,
        cast["wm"],
        branch="west-midlands",
        system="email",
        state="rebuilding",
        at=NOW - timedelta(hours=4),
        now=NOW,
    )
    before = full_snapshot(rstore)
    with pytest.raises(recovery.GateError, match=r"out of service: hq:email \(Contained"):
        record_status(
            rstore, cast["wm"], branch="west-midlands", system="email", state="verifying", now=NOW
        )
    assert full_snapshot(rstore) == before
    record_status(
        rstore,
        cast["it"],
        branch="west-midlands",
        system="email",
        state="verifying",
        reason="HQ mail relay bypassed for this branch",
        now=NOW,
    )


def test_the_critical_path_is_the_blocked_chain_with_the_latest_date(rstore, cast):
    depend(rstore, cast["it"], "kent:website", "kent:hub")
    depend(rstore, cast["it"], "kent:hub", "hq:hub")
    depend(rstore, cast["it"], "gwent:email", "hq:email")
    set_state(rstore, cast, "hq:hub", "rebuilding", hours=5, eta=date(2026, 4, 20))
    set_state(rstore, cast, "kent:hub", "outage", hours=4, eta=date(2026, 4, 10))
    set_state(rstore, cast, "kent:website", "outage", hours=4)
    set_state(rstore, cast, "hq:email", "rebuilding", hours=5, eta=date(2026, 4, 15))
    set_state(rstore, cast, "gwent:email", "outage", hours=4, eta=date(2026, 4, 30))
    path = recovery.critical_path(rstore)
    assert [n.key for n in path] == ["hq:email", "gwent:email"]  # 30 Apr beats 20 Apr
    set_state(rstore, cast, "gwent:email", "outage", hours=3, eta=date(2026, 4, 12))
    assert [n.key for n in recovery.critical_path(rstore)] == ["hq:hub", "kent:hub", "kent:website"]
    notes = recovery.forecast_notes(rstore, date(2026, 4, 16))
    assert len(notes) == 1 and notes[0].startswith("Headquarters · The Hub (Rebuilding")
    assert "20 Apr 2026, after the forecast of 16 Apr 2026; 2 systems wait on it" in notes[0]
    assert recovery.forecast_notes(rstore, date(2026, 5, 1)) == []


def test_board_json_rows_carry_blocked_by(rstore, cast, rec_url, monkeypatch, capsys):
    monkeypatch.setenv("RESTORE_DATABASE_URL", rec_url)
    depend(rstore, cast["it"], "kent:email", "hq:email")
    set_state(rstore, cast, "hq:email", "outage", hours=2)
    assert main(["board", "--format", "json"]) == 0
    rows = {(r["branch"], r["system"]): r for r in json.loads(capsys.readouterr().out)}
    assert rows[("Kent", "email")]["blocked_by"] == ["hq:email"]
    assert rows[("Kent", "hub")]["blocked_by"] == []
    assert (
        main(
            [
                "depends",
                "add",
                "--as",
                "it",
                "--branch",
                "hq",
                "--system",
                "email",
                "--on",
                "kent:email",
            ]
        )
        == 2
    )
    assert "cycle: hq:email -> kent:email -> hq:email" in capsys.readouterr().err
    assert main(["depends", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["system"], d["on"], d["blocked_by"]) for d in listed] == [
        ("kent:email", "hq:email", ["hq:email"])
    ]
