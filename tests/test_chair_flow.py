"""The chair's update and HQ IT's follow-up in the real Streamlit runtime (AppTest): the
traps that made the record quietly wrong (issue 7), each with the test that caught it."""

from datetime import UTC, date, datetime, timedelta

from streamlit.testing.v1 import AppTest
from test_app import ROOT, VIEWS, _submit, app, demo, demo_template, frames, labelled, texts

from restore import queries
from restore.directory import SYSTEM, actor_for, add_incident
from restore.records import record_status
from restore.transfer import export_rows

__all__ = ["demo", "demo_template"]  # fixtures shared with test_app
WM = "west-midlands"


def last_event(store) -> dict:
    return export_rows(store, actor_for(store, "hq.it"))[-1]


def count(store) -> int:
    return len(export_rows(store, actor_for(store, "hq.it")))


def set_state(store, system: str, state: str, **kw) -> None:
    record_status(store, actor_for(store, "hq.it"), branch=WM, system=system, state=state,
                  reason="test setup", **kw)  # fmt: skip


def tick_all(store, system: str) -> None:
    """HQ IT ticks the system's whole recovery checklist (the demo's gates need it)."""
    from restore import recovery

    it = actor_for(store, "hq.it")
    for item in recovery.checklist(store, branch=WM, system=system):
        recovery.tick(store, it, branch=WM, system=system, item=item["key"])


def chair_on(store, system: str) -> AppTest:
    at = app(store, "chair.west-midlands")
    labelled(at.radio, "System").set_value(system).run()
    return at


def test_a_changed_expected_date_is_recorded_without_any_tick_box(demo):
    """Trap 1: the date field was shown and editable, but thrown away unless a box was ticked."""
    set_state(demo, "hub", "rebuilding", eta=date.today() + timedelta(days=3))
    at = chair_on(demo, "hub")
    assert not [c for c in at.checkbox if "expected" in c.label.lower()]
    new = date.today() + timedelta(days=12)
    labelled(at.date_input, "Expected restoration date").set_value(new)
    labelled(at.text_area, "Note").input("Supplier late")
    _submit(at, "Record")
    assert last_event(demo)["eta"] == new.isoformat()
    assert "Check-in recorded, no change: The Hub is still Rebuilding" in texts(at)


def test_an_untouched_expected_date_is_carried_forward(demo):
    due = date.today() + timedelta(days=3)
    set_state(demo, "hub", "rebuilding", eta=due)
    at = chair_on(demo, "hub")
    labelled(at.selectbox, "New state").set_value("verifying")
    _submit(at, "Record")
    assert last_event(demo)["eta"] == due.isoformat()


def test_a_system_waiting_for_hq_checks_tells_the_chair_there_is_nothing_to_do(demo):
    """Trap 2: a chair was offered only backward or attack states, with no word of HQ's checks."""
    set_state(demo, "hub", "verifying")
    at = chair_on(demo, "hub")
    assert "Waiting for HQ IT's security checks since" in texts(at)
    assert "nothing for you to do" in texts(at)
    assert not [s for s in at.selectbox if s.label == "New state"]  # no form until asked
    labelled(at.toggle, "It broke again").set_value(True).run()
    options = labelled(at.selectbox, "New state").options
    assert options == [
        "Outage", "Contained (disconnected to stop the spread)",
        "Rebuilding / restoring from backup",
    ]  # fmt: skip
    labelled(at.selectbox, "New state").set_value("outage")
    labelled(at.text_area, "Note").input("Went down again overnight")
    _submit(at, "Record")
    assert last_event(demo)["state"] == "outage"


def test_after_recording_the_form_is_cleared_and_a_second_tap_is_not_recorded(demo):
    """Trap 3: the form kept state and note, so a second tap recorded a duplicate."""
    set_state(demo, "email", "investigating", note="Forensics on site")
    at = chair_on(demo, "email")
    labelled(at.selectbox, "New state").set_value("rebuilding")
    labelled(at.text_area, "Note").input("Restoring from backup")
    _submit(at, "Record")
    assert "Recorded: Email is now Rebuilding" in texts(at)
    assert labelled(at.text_area, "Note").value == ""
    assert labelled(at.selectbox, "New state").value == "rebuilding"  # the new current state
    before = count(demo)
    labelled(at.selectbox, "New state").set_value("rebuilding")
    labelled(at.text_area, "Note").input("Restoring from backup")
    _submit(at, "Record")  # the same words again, at once: a double tap
    assert count(demo) == before
    assert "Already recorded; the second tap changed nothing" in texts(at)


def test_a_check_in_without_a_note_keeps_the_last_note_in_view(demo):
    set_state(demo, "email", "investigating", note="Forensics on site")
    at = chair_on(demo, "email")
    _submit(at, "Record")  # same state, no note: a check-in
    assert "Check-in recorded, no change: Email is still Investigating" in texts(at)
    board = queries.board(demo).set_index(["slug", "system"])
    assert board.loc[(WM, "email"), "note"] == "Forensics on site"
    status = frames(at)[0].set_index("System")
    assert status.loc["Email", "Last note"].startswith("Forensics on site")


def test_nothing_has_changed_is_one_tap_for_every_system_out(demo):
    for system, state in (("website", "rebuilding"), ("hub", "verifying"), ("email", "outage")):
        set_state(demo, system, state)
    at = app(demo, "chair.west-midlands")
    before = count(demo)
    _submit(at, "Nothing has changed")
    assert count(demo) == before + 3
    assert "Check-in recorded, no change" in texts(at)
    new = export_rows(demo, actor_for(demo, "hq.it"))[-3:]
    assert {(r["system"], r["state"], r["who"]) for r in new} == {
        ("website", "rebuilding", "chair.west-midlands"),
        ("hub", "verifying", "chair.west-midlands"),
        ("email", "outage", "chair.west-midlands"),
    }


def test_every_state_says_what_happens_next(demo):
    set_state(demo, "email", "rebuilding")
    at = chair_on(demo, "email")
    assert "marks it ready for HQ IT's checks" in texts(at)
    status = frames(at)[0].set_index("System")
    assert status.loc["Email", "What happens next"].startswith("Being rebuilt")


def test_a_system_added_later_is_chased_as_never_reported(demo):
    """Trap 4: a system with no event at all was never listed as stale."""
    at = app(demo, "hq.it").switch_page(str(VIEWS / "admin.py")).run()
    at.text_input(key="system_key").input("phones")
    at.text_input(key="system_name").input("Phones")
    _submit(at, "Add system to every branch")
    at.switch_page(str(VIEWS / "follow_up.py")).run()
    stale = frames(at)[0]
    assert len(stale) == 44  # every branch now has a system nobody has reported
    assert stale["Quiet for"].str.contains("1 system\\(s\\) never reported").all()
    overview = app(demo, "hq.it")
    assert "44 of 44 branches" not in texts(overview)
    assert "176 systems have never been reported" not in texts(overview)
    assert "44 systems have no report yet" in texts(overview)


def test_an_outage_asks_which_incident_and_the_history_shows_it(demo):
    """Trap 5: a status was tagged with the latest incident, whatever the system's episode."""
    # The demo's HQ incident is closed; a second open one makes the question necessary.
    add_incident(
        demo, SYSTEM, name="Second wave", started_at=datetime.now(UTC) - timedelta(hours=2)
    )
    set_state(demo, "email", "restored", incident="Branch network attack")
    at = chair_on(demo, "email")
    labelled(at.selectbox, "New state").set_value("outage")
    _submit(at, "Record")
    assert "more than one incident is open" in texts(at)  # refused until the chair says
    labelled(at.selectbox, "New state").set_value("outage")
    labelled(at.selectbox, "If it has gone down: which attack is it part of?").set_value(
        "Branch network attack"
    )
    _submit(at, "Record")
    assert last_event(demo)["incident"] == "Branch network attack"
    history = frames(at)[-1]
    assert history.iloc[0]["Incident"] == "Branch network attack"


def test_the_overview_is_not_recomputed_when_nothing_changed(demo):
    """Trap 6: every read was recomputed each minute; now only a change recomputes it."""
    from restore.ui import data

    at = app(demo, "hq.it")
    assert data.COMPUTED["board"] >= 1
    data.COMPUTED.clear()
    at.run()
    assert sum(data.COMPUTED.values()) == 0
    record_status(demo, actor_for(demo, "hq.it"), branch="kent", system="email",
                  state="contained", note="changed", incident="Branch network attack")  # fmt: skip
    at.run()
    assert data.COMPUTED["board"] >= 1


def test_follow_up_opens_a_waiting_system_ready_to_verify(demo):
    set_state(demo, "hub", "verifying")
    tick_all(demo, "hub")
    at = app(demo, "hq.it").switch_page(str(VIEWS / "follow_up.py")).run()
    waiting = frames(at)[2]
    # The demo's own story may have West Midlands' email waiting too, on some days.
    pairs = list(zip(waiting["Branch"], waiting["System"], strict=True))
    row = pairs.index(("West Midlands", "The Hub"))
    at.session_state["verifying"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert at.title[0].value == "West Midlands"
    assert labelled(at.radio, "System").value == "hub"
    assert labelled(at.selectbox, "New state").value == "restored"
    # AppTest reruns the page it was switched to, not a page the app switched to, so open
    # the link's address (as the browser does) to submit.
    at = app(demo, "hq.it")
    for name, value in {"branch": WM, "system": "hub", "verify": "1"}.items():
        at.query_params[name] = value
    at.switch_page(str(VIEWS / "my_branch.py")).run()
    _submit(at, "Verify and restore")
    event = last_event(demo)
    assert (event["system"], event["state"], event["who"]) == ("hub", "restored", "hq.it")


def test_hq_it_verifies_several_waiting_systems_at_once(demo):
    set_state(demo, "hub", "verifying")
    set_state(demo, "email", "verifying")
    tick_all(demo, "hub")
    tick_all(demo, "email")
    at = app(demo, "hq.it").switch_page(str(VIEWS / "follow_up.py")).run()
    picker = labelled(at.multiselect, "Systems whose security checks passed")
    wanted = [f"{WM}:hub", f"{WM}:email"]
    picker.set_value(wanted)
    before = count(demo)
    _submit(at, "Verify and restore the selected")
    assert count(demo) == before + len(wanted) >= before + 2
    assert "Restored after HQ IT's checks" in texts(at)


def test_follow_up_shows_the_chairs_phone_number(demo):
    from restore.directory import update_user

    quiet = queries.stale(queries.board(demo), datetime.now(UTC)).iloc[0]
    update_user(demo, actor_for(demo, "hq.it"), username=f"chair.{quiet['slug']}",
                phone="07700 900123")  # fmt: skip
    at = app(demo, "hq.it").switch_page(str(VIEWS / "follow_up.py")).run()
    stale = frames(at)[0].set_index("Branch")
    assert "07700 900123" in stale.loc[quiet["branch"], "Chair"]


def test_the_public_page_of_one_branch_is_shareable_by_url(demo):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params["branch"] = "kent"
    at.run()
    table = frames(at)[0]
    assert list(table.columns) == ["Service", "Status", "Expected back", "Meanwhile"]
    assert "Last updated" in texts(at)
    assert labelled(at.selectbox, "Find your branch").value == "kent"


def test_add_user_defaults_to_branch_chair_and_keeps_a_phone_number(demo):
    at = app(demo, "hq.it").switch_page(str(VIEWS / "admin.py")).run()
    assert labelled(at.selectbox, "Role").value == "chair"
    labelled(at.text_input, "Username").input("chair.new")
    labelled(at.selectbox, "Branch (for a branch chair)").set_value("kent")
    labelled(at.text_input, "Phone").input("+44 7700 900456")
    _submit(at, "Add user")
    users = queries.user_list(demo).set_index("username")
    assert users.loc["chair.new", "phone"] == "+44 7700 900456"
    assert users.loc["chair.new", "role"] == "chair"


def test_a_refused_page_offers_the_sign_in_link(demo):
    at = AppTest.from_file(str(VIEWS / "admin.py"), default_timeout=60).run()
    assert (
        "Sign in" in str(at.get("page_link")[0].proto)
        if at.get("page_link")
        else ("[Sign in](/sign_in)" in texts(at, raw=True))
    )
    signin = app().switch_page(str(VIEWS / "sign_in.py")).run()
    assert "HQ IT sets up accounts and passwords" in texts(signin)
