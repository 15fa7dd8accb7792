"""Recovery, for HQ IT and leadership: regulatory and contractual clocks, dependencies
between systems, the recovery checklists, evidence files, and closing an incident (HQ IT
proposes "recovery complete", leadership confirms: a second key), with its final report.

The core checks every permission again; this page hides what the actor cannot do and
shows every refusal as text.
"""

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from restore import recovery_views
from restore.access import Action, can
from restore.domain import RestoreError
from restore.recovery import (
    add_clock,
    add_dependency,
    checklist,
    clock_met,
    closing_criteria,
    confirm_close,
    dependencies,
    evidence_file,
    final_report,
    incident_statuses,
    items,
    list_clocks,
    propose_close,
    remove_dependency,
    retire_item,
    save_item,
)
from restore.recovery.checklists import GATES
from restore.store import now_utc
from restore.timefmt import LONDON
from restore.ui import data, session
from restore.ui.views import refuse

ROLES = ("hq-it", "leadership")
actor = session.current_actor()
if actor.role not in ROLES:  # a second line behind the navigation
    refuse("Recovery", actor)
    st.stop()

st.title("Recovery")
st.write(
    "Regulatory clocks, dependencies between systems, the recovery checklists and closing "
    "an incident. HQ IT edits the checklists here."
)
if msg := st.session_state.pop("recovery_flash", None):
    st.success(session.plain(msg), icon=":material/check_circle:")
now = now_utc()
statuses = incident_statuses(data.store())
choices = recovery_views.incident_choices(statuses)
open_names = recovery_views.open_names(statuses)


def attempt(action, success: str) -> None:
    """Run a core write; on success show `success` on the page drawn afresh, on a refusal
    the core's words."""
    try:
        action()
    except RestoreError as e:
        st.error(session.plain(f"Not done: {e}"), icon=":material/error:")
        return
    st.session_state["recovery_flash"] = success
    st.rerun()


tabs = st.tabs(["Clocks", "Closing an incident", "Dependencies", "Checklists", "Evidence"])

# --- clocks -----------------------------------------------------------------------------

with tabs[0]:
    found = list_clocks(data.store(), now=now)
    rows = pd.DataFrame(recovery_views.clock_rows(found))
    if rows.empty:
        st.write("No clock is running yet.")
    else:
        st.dataframe(
            rows, hide_index=True, width="stretch", key="clocks",
            column_order=["Clock", "Incident", "State", "Due", "Outcome", "Reference", "Owner",
                          "Started"],
        )  # fmt: skip
    if can(actor, Action.RECORD_CLOCK):
        unmet = recovery_views.unmet_clocks(found)
        if unmet:
            with st.form("clock_met", border=True):
                st.markdown("**A notification was made**")
                which = st.selectbox("Clock", list(unmet), format_func=unmet.get)
                reference = st.text_input("Reference number", max_chars=200)
                if st.form_submit_button("Mark as met", type="primary"):
                    attempt(
                        lambda: clock_met(data.store(), actor, clock_id=which, reference=reference),
                        f"Clock marked as met, reference {reference.strip()}.",
                    )
        with st.form("clock_add", border=True):
            st.markdown("**Start a clock**")
            incident = st.selectbox("Incident", open_names, key="clock_incident")
            title = st.text_input(
                "Title", max_chars=200, placeholder="e.g. ICO: personal-data breach report"
            )
            c1, c2, c3 = st.columns(3)
            local = now.astimezone(LONDON)
            day = c1.date_input("Started (date)", value=local.date(), format="DD/MM/YYYY")
            at = c2.time_input("Started (time, London)", value=local.time().replace(
                second=0, microsecond=0), step=timedelta(minutes=15))  # fmt: skip
            hours = c3.number_input("Due after (hours)", min_value=1, value=72, step=1)
            owner = st.text_input(
                "Owner", max_chars=200, placeholder="e.g. Data-protection officer"
            )
            if st.form_submit_button("Start the clock", type="primary"):
                attempt(
                    lambda: add_clock(
                        data.store(),
                        actor,
                        incident=incident or "",
                        title=title,
                        start=datetime.combine(day, at, LONDON),
                        due_hours=int(hours),
                        owner=owner or None,
                    ),
                    f"Clock started: {title.strip()}.",
                )

# --- closing an incident ----------------------------------------------------------------


def proposal_form(name: str) -> None:
    with st.form("propose_close", border=True):
        st.markdown('**Propose "recovery complete"**')
        lessons = st.text_area("Lessons learned", max_chars=40000, height=160)
        actions = st.text_area(
            "Actions, one a line: what is to be done; owner",
            placeholder="Quarterly restore drill from the offline backups; HQ IT",
            max_chars=10000,
        )
        if st.form_submit_button("Propose closing the incident", type="primary"):
            attempt(
                lambda: propose_close(
                    data.store(),
                    actor,
                    incident=name,
                    lessons=lessons,
                    actions=recovery_views.parse_actions(actions),
                ),
                f"Proposed closing {name}; leadership confirms it.",
            )


def show_proposal(name: str) -> None:
    found = recovery_views.proposal(data.store(), name)
    if not found:
        return
    st.markdown("**Lessons learned**")
    st.text(found["lessons"])
    if found["actions"]:
        st.dataframe(found["actions"], hide_index=True, width="stretch", key="close_actions")


def show_report(name: str) -> None:
    text = final_report(data.store(), incident=name).decode()
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download the final report (PDF)",
        data=lambda: final_report(data.store(), incident=name, fmt="pdf"),
        file_name=f"final-report-{name}.pdf", mime="application/pdf", on_click="ignore",
        icon=":material/picture_as_pdf:",
    )  # fmt: skip
    c2.download_button(
        "Download the final report (Markdown)", text, file_name=f"final-report-{name}.md",
        mime="text/markdown", on_click="ignore", icon=":material/download:",
    )  # fmt: skip
    with st.container(border=True, key="final_report"):
        st.markdown(text)  # every user text in it is escaped by the report (briefing.md)


with tabs[1]:
    name = st.selectbox(
        "Incident to close or review", list(choices), format_func=choices.get, key="close_incident"
    )
    status = next((s for s in statuses if s.name == name), None)
    if status is not None:
        st.info(session.plain(recovery_views.status_words(status)), icon=":material/flag:")
        if status.state == "closed":
            show_report(name)
        else:
            unmet = closing_criteria(data.store(), incident=name, now=now)
            st.markdown("**Closing criteria**")
            if unmet:
                st.text("\n".join(f"Not yet: {session.sentence(u)}" for u in unmet))
            else:
                st.success("Every criterion holds.", icon=":material/task_alt:")
            show_proposal(name)
            if status.state == "proposed" and can(actor, Action.CONFIRM_CLOSE):
                st.write(
                    "Confirming closes the incident for good: its figures are frozen and the "
                    "final report is written."
                )
                if st.button("Confirm the closing", type="primary", key="confirm_close"):
                    attempt(
                        lambda: confirm_close(data.store(), actor, incident=name),
                        f"{name} is closed. The final report is below.",
                    )
            elif status.state == "proposed":
                st.caption("Leadership confirms the closing: the proposer cannot.")
            if can(actor, Action.PROPOSE_CLOSE):
                proposal_form(name)

# --- dependencies -----------------------------------------------------------------------

branches = data.read("branches")
systems = data.read("systems")
branch_names = dict(zip(branches["slug"], branches["name"], strict=True))
system_names = dict(zip(systems["key"], systems["name"], strict=True))

with tabs[2]:
    listed = pd.DataFrame(dependencies(data.store()))
    if listed.empty:
        st.write("No dependency is declared.")
    else:
        st.dataframe(
            recovery_views.dependency_rows(listed.to_dict("records")),
            hide_index=True,
            width="stretch",
            key="dependencies",
        )  # fmt: skip
    if can(actor, Action.MANAGE_DEPENDENCIES):
        with st.form("depends_add", border=True):
            st.markdown("**A system waits on another**")
            c1, c2 = st.columns(2)
            who_b = c1.selectbox("Branch", list(branch_names), format_func=branch_names.get)
            who_s = c2.selectbox("System", list(system_names), format_func=system_names.get)
            on_b = c1.selectbox("Waits on branch", list(branch_names), format_func=branch_names.get)
            on_s = c2.selectbox("Waits on system", list(system_names), format_func=system_names.get)
            if st.form_submit_button("Add the dependency", type="primary"):
                attempt(
                    lambda: add_dependency(
                        data.store(), actor, branch=who_b, system=who_s, on=f"{on_b}:{on_s}"
                    ),
                    f"{who_b}:{who_s} now waits on {on_b}:{on_s}.",
                )
        if not listed.empty:
            pairs = [f"{s} -> {o}" for s, o in zip(listed["system"], listed["on"], strict=True)]
            gone = st.selectbox("Remove a dependency", pairs, index=None, key="depends_gone")
            if gone and st.button("Remove", key="depends_remove"):
                who, on = gone.split(" -> ")
                b, _, s = who.rpartition(":")
                attempt(
                    lambda: remove_dependency(data.store(), actor, branch=b, system=s, on=on),
                    f"Removed: {gone}.",
                )

# --- checklists -------------------------------------------------------------------------

with tabs[3]:
    listed = items(data.store())
    st.dataframe(
        [
            {
                "Key": i.key,
                "Title": i.title,
                "Needed": recovery_views.GATE_WORDS[i.gate],
                "Applies to": ", ".join(system_names.get(k, k) for k in i.applies_to)
                or "every system type",
            }
            for i in listed
        ],
        hide_index=True,
        width="stretch",
        key="checklist_items",
    )
    if can(actor, Action.EDIT_CHECKLIST):
        with st.form("checklist_item", border=True):
            st.markdown("**Add an item, or change the one with this key**")
            key = st.text_input("Key", max_chars=40, placeholder="e.g. backups-tested")
            title = st.text_input("Title", max_chars=300)
            gate = st.selectbox("Needed", GATES, format_func=recovery_views.GATE_WORDS.get)
            applies = st.multiselect(
                "Applies to (none: every system type)", list(system_names),
                format_func=system_names.get,
            )  # fmt: skip
            if st.form_submit_button("Save the item", type="primary"):
                attempt(
                    lambda: save_item(
                        data.store(), actor, key=key, title=title, gate=gate, applies_to=applies
                    ),
                    f"Saved checklist item {key.strip()}.",
                )
        keys = [i.key for i in listed]
        gone = st.selectbox("Take an item off the checklist", keys, index=None, key="retire")
        if gone and st.button("Take it off", key="retire_button"):
            attempt(
                lambda: retire_item(data.store(), actor, key=gone),
                f"{gone} is off the checklist; its ticks are kept.",
            )

# --- evidence files ---------------------------------------------------------------------

with tabs[4]:
    if not can(actor, Action.READ_EVIDENCE):
        st.write("Evidence files are downloaded by HQ IT.")
    else:
        c1, c2 = st.columns(2)
        b = c1.selectbox(
            "Branch", list(branch_names), format_func=branch_names.get, key="evidence_branch"
        )
        s = c2.selectbox(
            "System", list(system_names), format_func=system_names.get, key="evidence_system"
        )
        files = recovery_views.evidence_files(checklist(data.store(), branch=b, system=s))
        if not files:
            st.write("No evidence file for this system.")
        for n, f in enumerate(files):
            st.download_button(
                f"Download {f['name']} ({f['item']}, {f['who']}, {f['when']})",
                data=lambda file_id=f["id"]: evidence_file(data.store(), actor, file_id)[2],
                file_name=f["name"], key=f"evidence_file:{f['id']}:{n}", on_click="ignore",
                icon=":material/download:",
            )  # fmt: skip
            st.caption(f"SHA-256 {f['sha256']}")
