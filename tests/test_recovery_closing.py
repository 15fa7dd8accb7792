"""Regulatory clocks and closing the incident (issue 11): clock states, each closing
criterion named, the two keys, the frozen final report in Markdown and PDF."""

import io
import json
from datetime import timedelta

import pytest
from conftest import NOW
from pypdf import PdfReader
from recovery_kit import cast, full_snapshot, pg_template, rec_url, rstore, sqlite_template

from restore import recovery
from restore.access import PermissionDenied
from restore.cli import main
from restore.directory import SYSTEM, actor_for, add_incident, update_user
from restore.records import ValidationError, record_status

__all__ = ["cast", "pg_template", "rec_url", "rstore", "sqlite_template"]  # fixtures
HQ, BRANCH = "HQ malware attack", "Branch network attack"
ALL_ITEMS = [
    "malware-removed",
    "credentials-reset",
    "clean-backup",
    "patched",
    "monitoring",
    "forensic-signoff",
]
LESSONS = "Offline backups saved us.\nThe e-mail relay was a single point of failure."
ACTIONS = [("Second mail relay", "HQ IT"), ("Quarterly restore drill", "Leadership")]


def ago(days: float):
    return NOW - timedelta(days=days)


def at(store, actor, key, state, days, **kw):
    branch, system = key.split(":")
    record_status(
        store, actor, branch=branch, system=system, state=state, at=ago(days), now=NOW, **kw
    )


def tick_all(store, actor, key, days):
    branch, system = key.split(":")
    for item in ALL_ITEMS:
        recovery.tick(
            store, actor, branch=branch, system=system, item=item, note="done", now=ago(days)
        )


def recover(store, cast, key, *, down=39, ticks=True, **kw):
    it = cast["it"]
    at(store, it, key, "contained", down)
    at(store, it, key, "rebuilding", down - 2, eta=ago(down - 5).date(), note="restoring")
    at(
        store,
        it,
        key,
        "rebuilding",
        down - 3,
        eta=ago(down - 7).date(),
        note="Supplier delayed the server",
    )
    if ticks:
        tick_all(store, it, key, down - 3.5)
    at(store, it, key, "verifying", down - 4, **kw)
    at(store, it, key, "restored", down - 5, **kw)


@pytest.fixture
def attack(rstore, cast):
    """Two incidents; HQ's systems contained 39 days ago and all back, checklists complete."""
    add_incident(rstore, SYSTEM, name=HQ, started_at=ago(40), description="Malware at HQ.")
    add_incident(rstore, SYSTEM, name=BRANCH, started_at=ago(30))
    recovery.load_default_checklist(rstore, cast["it"], now=ago(41))
    for system in ("website", "hub", "email"):
        recover(rstore, cast, f"hq:{system}")
    return rstore


def test_each_unmet_criterion_is_named_and_nothing_is_written(rstore, cast):
    it = cast["it"]
    add_incident(rstore, SYSTEM, name=HQ, started_at=ago(40))
    add_incident(rstore, SYSTEM, name=BRANCH, started_at=ago(30))
    recovery.load_default_checklist(rstore, it, now=ago(41))
    recover(rstore, cast, "hq:email")
    recover(rstore, cast, "hq:hub", ticks=False, reason="restored before the checklist")
    at(rstore, it, "hq:website", "outage", 39)
    at(rstore, it, "hq:website", "rebuilding", 20)
    at(rstore, it, "kent:email", "outage", 10, incident=BRANCH)
    recovery.add_dependency(rstore, it, branch="hq", system="email", on="kent:email", now=NOW)
    recovery.set_reinfection_days(rstore, it, incident=HQ, days=40, now=NOW)
    before = full_snapshot(rstore)
    with pytest.raises(recovery.ClosingRefused) as refused:
        recovery.propose_close(rstore, it, incident=HQ, lessons="", now=NOW)
    message = str(refused.value)
    assert "not every affected system is in service and verified: hq:website (Rebuilding" in message
    assert "checklists not complete: hq:website (malware-removed, credentials-reset," in message
    assert "forensic-signoff), hq:hub (malware-removed" in message
    assert "open dependencies: hq:email on kent:email (Outage)" in message
    assert "within the last 40 days (the re-infection window): hq:email on" in message
    assert "write the lessons learned" in message
    assert full_snapshot(rstore) == before
    assert len(recovery.closing_criteria(rstore, incident=HQ, now=NOW)) == 4
    assert recovery.closing_criteria(rstore, incident=BRANCH, now=NOW) == [
        "not every affected system is in service and verified: kent:email (Outage)",
        "checklists not complete: kent:email (malware-removed, credentials-reset, clean-backup,"
        " patched, monitoring, forensic-signoff)",
        "systems went out of service within the last 14 days (the re-infection window): "
        "kent:email on 22 Mar 2026 12:00",
    ]


def test_hq_it_proposes_leadership_confirms_and_the_report_is_frozen(attack, cast):
    it, boss = cast["it"], cast["boss"]
    recovery.add_clock(
        attack,
        it,
        incident=HQ,
        title="ICO notification (72 hours)",
        start=ago(39),
        due_hours=72,
        owner="DPO",
        now=NOW,
    )
    recovery.clock_met(attack, boss, clock_id=1, reference="ICO-00123", at=ago(37.5), now=NOW)
    for who in ("wm", "boss"):
        with pytest.raises(PermissionDenied):
            recovery.propose_close(attack, cast[who], incident=HQ, lessons=LESSONS)
    with pytest.raises(ValidationError, match="HQ IT has not proposed"):
        recovery.confirm_close(attack, boss, incident=HQ, now=NOW)
    recovery.propose_close(attack, it, incident=HQ, lessons=LESSONS, actions=ACTIONS, now=NOW)
    assert [s.state for s in recovery.incident_statuses(attack)] == ["proposed", "open"]
    before = full_snapshot(attack)
    for who in ("it", "it2", "wm"):  # HQ IT holds the first key only
        with pytest.raises(PermissionDenied):
            recovery.confirm_close(attack, cast[who], incident=HQ, now=NOW)
    assert full_snapshot(attack) == before
    recovery.confirm_close(attack, cast["boss2"], incident=HQ, now=NOW + timedelta(hours=1))
    assert recovery.open_incidents(attack) == [BRANCH]
    assert recovery.closed_incidents(attack) == [HQ]
    markdown = recovery.final_report(attack, incident=HQ, fmt="md").decode()
    for heading in (
        "# Final report: HQ malware attack",
        "## Timeline",
        "## Time to restore per system type",
        "## What slipped and why",
        "## Clocks met or missed",
        "## Lessons learned",
        "### Actions and owners",
    ):
        assert heading in markdown
    assert "Supplier delayed the server" in markdown
    assert "ICO notification (72 hours) (owner DPO)\\: MET" in markdown
    assert "reference ICO-00123" in markdown
    assert "Second mail relay (owner\\: HQ IT)" in markdown
    assert "| Email | 1 | 5.0 | 5.0 | 5.0 |" in markdown
    pdf = PdfReader(io.BytesIO(recovery.final_report(attack, incident=HQ, fmt="pdf")))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Final report: HQ malware attack" in text and "Lessons learned" in text
    assert "Quarterly restore drill" in text
    figures = recovery.frozen_figures(attack, incident=HQ)
    assert figures["affected"] == 3 and figures["closing"]["confirmed_by"] == "boss2"
    # later events change nothing that was frozen; a closed incident is not reopened
    at(attack, it, "hq:email", "contained", 0.1, incident=BRANCH)
    assert recovery.frozen_figures(attack, incident=HQ) == figures
    with pytest.raises(ValidationError, match="was closed"):
        recovery.propose_close(attack, it, incident=HQ, lessons=LESSONS, now=NOW)
    with pytest.raises(ValidationError, match="was closed"):
        recovery.confirm_close(attack, boss, incident=HQ, now=NOW)


def test_the_proposer_cannot_confirm_even_with_a_new_role(attack, cast):
    recovery.propose_close(attack, cast["it"], incident=HQ, lessons=LESSONS, now=NOW)
    update_user(attack, SYSTEM, username="it", role="leadership")
    before = full_snapshot(attack)
    with pytest.raises(ValidationError, match=r"it proposed closing .*someone else must confirm"):
        recovery.confirm_close(attack, actor_for(attack, "it"), incident=HQ, now=NOW)
    assert full_snapshot(attack) == before


def test_confirming_checks_the_criteria_again(attack, cast):
    recovery.propose_close(attack, cast["it"], incident=HQ, lessons=LESSONS, now=NOW)
    at(attack, cast["it"], "hq:hub", "contained", 0.5, incident=HQ)
    before = full_snapshot(attack)
    with pytest.raises(recovery.ClosingRefused, match="hq:hub \\(Contained"):
        recovery.confirm_close(attack, cast["boss"], incident=HQ, now=NOW)
    assert full_snapshot(attack) == before
    assert recovery.open_incidents(attack) == [HQ, BRANCH]


# --- clocks ---------------------------------------------------------------------------


def test_clock_states_running_met_and_missed(attack, cast):
    it, boss = cast["it"], cast["boss"]

    def clock(title, hours_ago, due):
        return recovery.add_clock(
            attack,
            it,
            incident=HQ,
            title=title,
            start=NOW - timedelta(hours=hours_ago),
            due_hours=due,
            now=NOW,
        )

    late = clock("Regulator (72 hours)", 80, 72)
    soon = clock("Insurer notification", 65, 72)
    calm = clock("Board report", 10, 72)
    done = clock("Police report", 30, 72)
    tardy = clock("Bank notification", 100, 24)
    recovery.clock_met(attack, boss, clock_id=done, reference="NFRC-9", now=NOW)
    recovery.clock_met(
        attack, it, clock_id=tardy, reference="BANK-1", at=NOW - timedelta(hours=50), now=NOW
    )
    states = {c.id: c for c in recovery.list_clocks(attack, now=NOW)}
    assert {k: states[k].state for k in (late, soon, calm, done, tardy)} == {
        late: "missed",
        soon: "running",
        calm: "running",
        done: "met",
        tardy: "missed",
    }
    assert (states[done].met_by, states[done].reference) == ("boss", "NFRC-9")
    assert states[tardy].reference == "BANK-1"  # missed, though notified late
    assert states[soon].hours_left == pytest.approx(7)
    assert states[calm].countdown().startswith("due in 2 d 14 h")
    assert recovery.clock_risks(attack, now=NOW) == [
        f"Insurer notification ({HQ}, owner it) is {states[soon].countdown()}"
    ]
    later = {c.id: c.state for c in recovery.list_clocks(attack, now=NOW + timedelta(hours=8))}
    assert later[soon] == "missed"


def test_clock_writes_are_checked_and_refused_whole(attack, cast):
    before = full_snapshot(attack)
    with pytest.raises(PermissionDenied):
        recovery.add_clock(attack, cast["wm"], incident=HQ, title="X", start=ago(1), due_hours=72)
    with pytest.raises(ValidationError, match=r"title of 1-200.*due hours.*in the future"):
        recovery.add_clock(
            attack,
            cast["it"],
            incident=HQ,
            title=" ",
            start=NOW + timedelta(1),
            due_hours=0,
            now=NOW,
        )
    assert full_snapshot(attack) == before
    clock = recovery.add_clock(
        attack, cast["it"], incident=HQ, title="ICO", start=ago(1), due_hours=72, now=NOW
    )
    recovery.clock_met(attack, cast["it"], clock_id=clock, reference="ICO-1", now=NOW)
    before = full_snapshot(attack)
    with pytest.raises(ValidationError, match="already met \\(reference ICO-1\\)"):
        recovery.clock_met(attack, cast["boss"], clock_id=clock, reference="ICO-2", now=NOW)
    with pytest.raises(ValidationError, match="reference number"):
        recovery.clock_met(attack, cast["boss"], clock_id=clock, reference="", now=NOW)
    assert full_snapshot(attack) == before


# --- the command line -------------------------------------------------------------------


def test_cli_clocks_and_closing_with_two_keys(attack, cast, rec_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RESTORE_DATABASE_URL", rec_url)
    start = ago(39).isoformat()
    assert (
        main(
            [
                "clock",
                "add",
                "--as",
                "it",
                "--incident",
                HQ,
                "--title",
                "ICO 72 hours",
                "--start",
                start,
                "--due-hours",
                "72",
            ]
        )
        == 0
    )
    assert main(["clock", "met", "--as", "boss", "--id", "1", "--reference", "ICO-7"]) == 0
    capsys.readouterr()
    assert main(["clock", "list", "--format", "json"]) == 0
    (clock,) = json.loads(capsys.readouterr().out)
    assert (clock["title"], clock["reference"], clock["met_by"]) == (
        "ICO 72 hours",
        "ICO-7",
        "boss",
    )
    assert clock["state"] == "missed"  # recorded now, long after the 72 hours ran out
    assert (
        main(
            [
                "incident",
                "add",
                "--as",
                "it",
                "--name",
                "Phishing wave",
                "--start",
                ago(2).isoformat(),
                "--reinfection-days",
                "3",
            ]
        )
        == 0
    )
    at(attack, cast["it"], "kent:hub", "outage", 1, incident="Phishing wave")
    assert (
        main(["incident", "close", "--as", "it", "--incident", "Phishing wave", "--lessons", "x"])
        == 2
    )
    err = capsys.readouterr().err
    assert "not every affected system is in service and verified: kent:hub (Outage)" in err
    assert (
        main(
            [
                "incident",
                "close",
                "--as",
                "it",
                "--incident",
                HQ,
                "--lessons",
                LESSONS,
                "--action",
                "Second mail relay=HQ IT",
            ]
        )
        == 0
    )
    assert main(["incident", "confirm-close", "--as", "it", "--incident", HQ]) == 2
    assert main(["incident", "confirm-close", "--as", "boss", "--incident", HQ]) == 0
    capsys.readouterr()
    assert main(["incident", "list", "--format", "json"]) == 0
    states = {i["name"]: i["state"] for i in json.loads(capsys.readouterr().out)}
    assert states == {HQ: "closed", BRANCH: "open", "Phishing wave": "open"}
    out = tmp_path / "final.pdf"
    assert (
        main(["incident", "report", "--incident", HQ, "--format", "pdf", "--output", str(out)]) == 0
    )
    assert out.read_bytes().startswith(b"%PDF-")
