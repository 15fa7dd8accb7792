"""Issue 11's pages in the real Streamlit runtime (AppTest): the chair's checklist on the
branch page, the gate's refusal and HQ IT's override, the overview's clocks and closed
incidents, and closing an incident with two keys on the Recovery page."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest
from test_app import VIEWS, _submit, app, demo, demo_template, labelled, texts

from restore import recovery_views
from restore.access import PermissionDenied
from restore.briefing import to_markdown
from restore.directory import actor_for, add_incident
from restore.records import record_status
from restore.recovery import (
    checklist,
    clocks,
    confirm_close,
    incident_statuses,
    items,
    list_clocks,
    set_reinfection_days,
    tick_many,
)
from restore.recovery.checklists import Tick
from restore.transfer import export_rows

__all__ = ["demo", "demo_template"]  # fixtures shared with test_app
WM = "west-midlands"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def events(store) -> list[dict]:
    return export_rows(store, actor_for(store, "hq.it"))


def submit_in(at: AppTest, form: str) -> None:
    """Press the submit button of one form (several forms share a label)."""
    next(b for b in at.get("form_submit_button") if b.form_id == form).click()
    at.run()


# --- the branch page ------------------------------------------------------------------


def test_a_chair_ticks_an_item_with_an_evidence_file_on_the_branch_page(demo):
    at = app(demo, "chair.west-midlands")
    assert "Recovery checklists" in texts(at)
    assert "Tick what is done; verification needs Malware removed" in texts(at)
    at.selectbox(key="item:email:0").set_value("malware-removed")
    at.text_input(key="ticknote:email:0").input("Rebuilt from the gold image")
    at.file_uploader(key="evidence:email:0").upload("scan.png", PNG, "image/png")
    submit_in(at, "tick:email:0")
    assert not at.exception
    assert "Ticked as done with scan.png: Email, Malware removed." in texts(at)
    done = {i["key"]: i for i in checklist(demo, branch=WM, system="email")}
    (tick,) = done["malware-removed"]["ticks"]
    assert done["malware-removed"]["done"] and tick["who"] == "chair.west-midlands"
    assert tick["note"] == "Rebuilt from the gold image"
    assert tick["files"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    # the form starts afresh, without the item just ticked
    titles = at.selectbox(key="item:email:1").options
    assert titles and not [t for t in titles if t.startswith("Malware removed")]


def test_a_file_that_is_not_what_its_name_says_is_refused_whole(demo):
    at = app(demo, "chair.west-midlands")
    before = checklist(demo, branch=WM, system="email")
    at.file_uploader(key="evidence:email:0").upload("report.pdf", b"MZ\x90\x00binary", "x/y")
    submit_in(at, "tick:email:0")
    assert "Not ticked: evidence file 'report.pdf' is named as a PDF but its contents" in texts(at)
    assert checklist(demo, branch=WM, system="email") == before


def test_a_chair_ticks_without_a_file_and_sees_who_and_when(demo):
    at = app(demo, "chair.west-midlands")
    at.selectbox(key="item:hub:0").set_value("patched")
    submit_in(at, "tick:hub:0")
    assert "Ticked as done: The Hub, Patched." in texts(at)
    assert "Done · Patched: operating system" in texts(at)  # the phone's card
    table = next(f.value for f in at.dataframe if "Needed" in f.value.columns and
                 "Done" in set(f.value["Done"]))  # fmt: skip
    row = table.set_index("Item").loc[next(i.title for i in items(demo) if i.key == "patched")]
    assert row["By"] == "chair.west-midlands" and row["When"]


def hq_on(store, system: str) -> AppTest:
    at = app(store, "hq.it")
    at.query_params["branch"] = WM
    at.switch_page(str(VIEWS / "my_branch.py")).run()
    labelled(at.radio, "System").set_value(system).run()
    return at


def test_hq_it_cannot_restore_with_an_open_item_without_an_override(demo):
    hq = actor_for(demo, "hq.it")
    record_status(demo, hq, branch=WM, system="hub", state="verifying", reason="test setup")
    at = hq_on(demo, "hub")
    before = len(events(demo))
    labelled(at.selectbox, "New state").set_value("restored")
    _submit(at, "Record")
    shown = texts(at)
    assert "Not recorded:" in shown and "cannot move to 'restored' yet" in shown
    assert "Monitoring in place" in shown and "[forensic-signoff]" in shown  # names each item
    assert 'HQ IT may go ahead with "Override the transition rules"' in shown
    assert len(events(demo)) == before
    labelled(at.toggle, "Override the transition rules").set_value(True).run()
    labelled(at.selectbox, "New state").set_value("restored")
    labelled(at.text_input, "Override reason").input("Forensic firm cleared it by phone")
    _submit(at, "Record")
    last = events(demo)[-1]
    assert (last["system"], last["state"], last["who"]) == ("hub", "restored", "hq.it")
    assert last["reason"] == "Forensic firm cleared it by phone"


def test_a_chair_cannot_ask_for_verification_before_the_items_are_ticked(demo):
    at = app(demo, "chair.west-midlands")
    labelled(at.radio, "System").set_value("email").run()
    before = len(events(demo))
    labelled(at.selectbox, "New state").set_value("verifying")
    _submit(at, "Record")
    shown = texts(at)
    assert "cannot move to 'verifying' yet: checklist items not ticked" in shown
    assert "[malware-removed]" in shown and "[monitoring]" not in shown  # only this gate's
    assert "Tick the items in the recovery checklist below" in shown
    assert len(events(demo)) == before


def test_the_branch_page_says_what_a_system_is_blocked_by(demo):
    at = app(demo, "hq.it")
    at.query_params["branch"] = "kent"
    at.switch_page(str(VIEWS / "my_branch.py")).run()
    assert "Public website: blocked by Kent · The Hub (Rebuilding" in texts(at)


def test_the_chair_sees_the_hq_system_their_email_waits_on(demo):
    hq = actor_for(demo, "hq.it")
    record_status(demo, hq, branch="hq", system="email", state="rebuilding",
                  incident="Branch network attack", reason="test setup")  # fmt: skip
    at = app(demo, "chair.west-midlands")
    assert "Email: blocked by Headquarters · Email (Rebuilding" in texts(at)


# --- the overview -------------------------------------------------------------------


def test_the_overview_counts_down_the_clocks_and_leaves_closed_incidents_out(demo):
    # A clock started an hour ago: the demo's own running clock is due 10 hours after the
    # moment its story was cut at (conftest.live_demo_moment), which a run may be past.
    clocks.add(demo, actor_for(demo, "hq.it"), incident="Branch network attack",
               title="Insurer: recovery plan", start=datetime.now(UTC) - timedelta(hours=1),
               due_hours=72)  # fmt: skip
    at = app(demo, "leader")
    shown = texts(at)
    assert "Regulatory and contractual clocks" in shown
    assert "Insurer: recovery plan (Branch network attack): due in" in shown
    assert "Missed: Action Fraud crime report" in shown
    assert "HQ malware attack" not in shown.split("Critical path")[0]  # closed: not live
    incident = labelled(at.selectbox, "Incident")
    assert incident.options == ["Branch network attack", "HQ malware attack (closed)"]
    incident.set_value("HQ malware attack").run()
    assert "HQ malware attack is closed." in texts(at)
    assert "Board: recovery update" not in texts(at)


def test_the_overview_shows_the_critical_path(demo):
    at = app(demo, "hq.it")
    assert "Critical path" in texts(at)
    assert "Kent · Public website waits on Kent · The Hub (Rebuilding" in texts(at)
    assert "the latest expected date on this chain is" in texts(at)


# --- the Recovery page ----------------------------------------------------------------


def closable_incident(store) -> str:
    """A new incident that took HQ's website down once; it is back, every item ticked."""
    hq = actor_for(store, "hq.it")
    now = datetime.now(UTC)
    add_incident(store, hq, name="Test attack", started_at=now - timedelta(days=2))
    record_status(store, hq, branch="hq", system="website", state="outage",
                  incident="Test attack", at=now - timedelta(days=1))  # fmt: skip
    ticks = [Tick("hq", "website", i.key, at=now - timedelta(hours=2)) for i in items(store)]
    tick_many(store, hq, ticks)
    record_status(store, hq, branch="hq", system="website", state="restored",
                  reason="test setup")  # fmt: skip
    set_reinfection_days(store, hq, incident="Test attack", days=0)
    return "Test attack"


def recovery_page(store, user: str) -> AppTest:
    return app(store, user).switch_page(str(VIEWS / "recovery.py")).run()


def test_leadership_confirms_the_closing_that_hq_it_proposed(demo):
    name = closable_incident(demo)
    at = recovery_page(demo, "hq.it")
    assert "HQ IT edits the checklists here" in texts(at)
    at.selectbox(key="close_incident").set_value(name).run()
    assert "Every criterion holds." in texts(at)
    labelled(at.text_area, "Lessons learned").input("Keep <b>offline</b> backups")
    labelled(at.text_area, "Actions, one a line: what is to be done; owner").input(
        "Restore drill every quarter; HQ IT\nSecond mail relay; Infrastructure lead"
    )
    _submit(at, "Propose closing the incident")
    assert f"Proposed closing {name}" in texts(at)
    at.selectbox(key="close_incident").set_value(name).run()
    assert "waits for leadership to confirm" in texts(at)
    assert not [b for b in at.button if b.label == "Confirm the closing"]  # not HQ IT's key
    with pytest.raises(PermissionDenied):
        confirm_close(demo, actor_for(demo, "hq.it"), incident=name)
    leader = recovery_page(demo, "leader")
    leader.selectbox(key="close_incident").set_value(name).run()
    assert "Keep <b>offline</b> backups" in texts(leader)  # shown as text
    _submit(leader, "Confirm the closing")
    assert f"{name} is closed. The final report is below." in texts(leader)
    assert {s.name: s.state for s in incident_statuses(demo)}[name] == "closed"
    report = "\n".join(m.value for m in leader.markdown)
    assert "Lessons learned" in report and "<b>" not in report
    assert [b.label for b in leader.get("download_button")][:2] == [
        "Download the final report (PDF)", "Download the final report (Markdown)",
    ]  # fmt: skip


def test_a_proposal_is_refused_naming_each_unmet_criterion(demo):
    at = recovery_page(demo, "hq.it")
    at.selectbox(key="close_incident").set_value("Branch network attack").run()
    assert "Not yet: Open dependencies: kent:website on kent:hub" in texts(at)
    labelled(at.text_area, "Lessons learned").input("Too early")
    _submit(at, "Propose closing the incident")
    assert "Not done: Branch network attack cannot close yet" in texts(at)
    states = {s.name: s.state for s in incident_statuses(demo)}
    assert states["Branch network attack"] == "open"


def test_hq_it_starts_a_clock_and_marks_it_met(demo):
    at = recovery_page(demo, "hq.it")
    labelled(at.text_input, "Title").input("Insurer: branch claim")
    labelled(at.text_input, "Owner").input("Finance director")
    _submit(at, "Start the clock")
    assert "Clock started: Insurer: branch claim." in texts(at)
    new = next(c.id for c in list_clocks(demo) if c.title == "Insurer: branch claim")
    labelled(at.selectbox, "Clock").set_value(new)
    labelled(at.text_input, "Reference number").input("CLM-1")
    _submit(at, "Mark as met")
    assert "Clock marked as met, reference CLM-1." in texts(at)


def test_hq_it_edits_the_checklist_and_a_cycle_is_refused(demo):
    at = recovery_page(demo, "hq.it")
    labelled(at.text_input, "Key").input("backups-tested")
    next(t for t in at.text_input if t.label == "Title" and t.form_id == "checklist_item").input(
        "Backups tested by a restore"
    )
    _submit(at, "Save the item")
    assert "Saved checklist item backups-tested." in texts(at)
    assert "backups-tested" in [i.key for i in items(demo)]
    dep = {s.label: s for s in at.selectbox if s.form_id == "depends_add"}
    dep["Branch"].set_value("hq")
    dep["System"].set_value("email")
    dep["Waits on branch"].set_value("kent")
    dep["Waits on system"].set_value("email")
    _submit(at, "Add the dependency")
    assert "Not done: refused: that dependency would make a cycle" in texts(at)


@pytest.mark.parametrize("user", ["chair.west-midlands", None])
def test_the_recovery_page_refuses_chairs_and_members(demo, user):
    at = app(demo, user) if user else app()
    at.switch_page(str(VIEWS / "recovery.py")).run()
    assert next(e.value for e in at.error).startswith("You do not have access to the Recovery")
    assert not at.dataframe and not at.get("form_submit_button")


# --- the briefing ---------------------------------------------------------------------


def test_the_briefing_counts_down_each_clock_and_a_clock_due_soon_is_a_risk(demo):
    from dataclasses import replace

    from restore import publishing

    # The briefing as of the demo story's own moment (conftest.live_demo_moment cuts it up to a
    # day before the run), when its trustees' clock is due in 10 hours: a risk.
    board = next(c for c in recovery_views.clock_core.listing(demo) if c.title.startswith("Board"))
    now = board.due_at - timedelta(hours=10)
    inputs = replace(publishing.inputs(demo, now), clocks=recovery_views.briefing_clocks(demo, now))
    from restore.briefing import compose

    b = compose(inputs, now)
    text = to_markdown(b)
    assert "## Regulatory and contractual clocks" in text
    assert "by leader (reference IC-204871-K3P9)" in text  # met, with who and the reference
    assert any(line.startswith("Action Fraud crime report") and "missed" in line
               for line in b.clocks)  # fmt: skip
    (risk,) = b.risks["clocks"]
    assert risk.startswith("Board: recovery update to trustees (Branch network attack, owner")
    assert "### Clocks due within 12 hours" in text
    # a briefing replayed before the notifications were made shows those clocks unmet
    early = min(c.started_at for c in recovery_views.clock_core.listing(demo)) + timedelta(hours=1)
    states = {c["state"] for c in recovery_views.briefing_clocks(demo, early)}
    assert states == {"running"}


def test_a_briefing_published_before_clocks_were_kept_still_renders(demo):
    from restore import publishing
    from restore.briefing import Briefing
    from restore.briefing_pdf import to_pdf

    old = publishing.draft(demo).to_json()
    old.pop("clocks")
    old["risks"].pop("clocks")
    b = Briefing(**old)
    assert "Regulatory and contractual clocks" not in to_markdown(b)
    assert to_pdf(b).startswith(b"%PDF")
