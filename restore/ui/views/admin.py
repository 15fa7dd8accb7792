"""Admin for HQ IT: branches, systems, users, incidents, bulk import, export, audit, and
notifications (each user's channels, shown masked; alerts; invitations and password resets)."""

from datetime import datetime, time

import streamlit as st

from restore import audit, csv_safe, notify
from restore.access import ROLES
from restore.directory import (
    add_branch,
    add_incident,
    add_system,
    add_user,
    set_incident_target,
    update_user,
)
from restore.domain import RestoreError
from restore.store import now_utc
from restore.timefmt import LONDON, show
from restore.transfer import ImportRefused, export_rows, import_csv, parse_csv, to_csv, to_json
from restore.ui import data, session
from restore.ui.views import guard

actor = session.current_actor()
guard(actor, "admin")
st.title("Admin")
st.caption(
    "Recovery checklists (per system type), dependencies and regulatory clocks are edited on "
    "the Recovery page."
)


def attempt(action, success: str) -> None:
    """Run one core write; show its refusal as it is, or the success message."""
    try:
        action()
    except RestoreError as e:
        st.error(session.plain(str(e)), icon=":material/error:")
    else:
        st.success(session.plain(success), icon=":material/check_circle:")


tabs = st.tabs(
    ["Branches", "Systems", "Users", "Incidents", "Import", "Export", "Audit", "Notifications"]
)
branches = data.read("branches")
branch_names = dict(zip(branches["slug"], branches["name"], strict=True))

with tabs[0]:
    with st.form("add_branch", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        name = c1.text_input("Name")
        slug = c2.text_input("Short slug", placeholder="e.g. new-branch")
        region = c3.text_input("Region")
        if st.form_submit_button("Add branch"):
            attempt(
                lambda: add_branch(data.store(), actor, name=name, slug=slug, region=region),
                f"Added branch {name} with every system.",
            )
    st.dataframe(
        branches,
        hide_index=True,
        width="stretch",
        column_order=["name", "slug", "region", "area", "is_hq"],
        column_config={
            "name": "Name",
            "slug": "Short slug",
            "region": "Region",
            "area": "Area",
            "is_hq": "HQ",
        },
    )

with tabs[1]:
    with st.form("add_system", clear_on_submit=True):
        c1, c2 = st.columns(2)
        key = c1.text_input("Key", placeholder="e.g. phones", key="system_key")
        label = c2.text_input("Name", placeholder="e.g. Phones", key="system_name")
        if st.form_submit_button("Add system to every branch"):
            attempt(
                lambda: add_system(data.store(), actor, key=key, name=label),
                f"Added {label} to every branch.",
            )
    st.dataframe(
        data.read("systems"),
        hide_index=True,
        column_order=["key", "name"],
        column_config={"key": "Key", "name": "Name"},
    )

with tabs[2]:
    with st.form("add_user", clear_on_submit=True):
        st.write("Add a user")
        c1, c2, c3 = st.columns(3)
        username = c1.text_input("Username", placeholder="e.g. chair.kent")
        display = c2.text_input("Full name")
        role = c3.selectbox(
            "Role", list(ROLES), index=list(ROLES).index("chair"), format_func=ROLES.get
        )
        c4, c5, c6 = st.columns(3)
        branch = c4.selectbox(
            "Branch (for a branch chair)",
            list(branch_names),
            format_func=branch_names.get,
            index=None,
            placeholder="Choose the chair's branch",
        )
        phone = c5.text_input("Phone", placeholder="e.g. 07700 900123")
        email = c6.text_input("E-mail (also for single sign-on)")
        password = st.text_input("Password (leave empty to set it later)", type="password")
        if st.form_submit_button("Add user", type="primary"):
            attempt(
                lambda: add_user(
                    data.store(),
                    actor,
                    username=username,
                    role=role,
                    branch=branch,
                    display_name=display,
                    password=password or None,
                    email=email or None,
                    phone=phone or None,
                ),
                f"Added user {username}.",
            )
    users = data.read("users")
    st.dataframe(
        users.assign(
            role=users["role"].map(ROLES), locked_until=[show(t) for t in users["locked_until"]]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "username": "Username",
            "display_name": "Full name",
            "role": "Role",
            "branch": "Branch",
            "email": "E-mail",
            "phone": "Phone",
            "active": "Can sign in",
            "locked_until": "Locked until",
        },
    )
    with st.form("change_user", clear_on_submit=True):
        st.write("Change a user")
        c1, c2 = st.columns(2)
        who = c1.selectbox("User", list(users["username"]), key="change_user_name")
        change = c2.selectbox(
            "Change",
            [
                "Set a new password",
                "Change role and branch",
                "Change phone and e-mail",
                "Deactivate",
                "Reactivate",
            ],
        )
        c3, c4, c5 = st.columns(3)
        new_password = c3.text_input("New password", type="password", key="change_user_pw")
        new_role = c4.selectbox("New role", list(ROLES), format_func=ROLES.get, key="change_role")
        new_branch = c5.selectbox(
            "New branch (for a branch chair)",
            list(branch_names),
            format_func=branch_names.get,
            index=None,
            key="change_branch",
        )
        c6, c7 = st.columns(2)
        new_phone = c6.text_input("New phone (empty clears it)", key="change_phone")
        new_email = c7.text_input("New e-mail (empty clears it)", key="change_email")
        if st.form_submit_button("Apply"):
            kwargs = {
                "Set a new password": {"password": new_password},
                "Change role and branch": {"role": new_role, "branch": new_branch},
                "Change phone and e-mail": {"phone": new_phone, "email": new_email},
                "Deactivate": {"active": False},
                "Reactivate": {"active": True},
            }[change]
            attempt(
                lambda: update_user(data.store(), actor, username=who, **kwargs),
                f"{change}: done for {who}.",
            )

with tabs[3]:
    with st.form("add_incident", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        title = c1.text_input("Name")
        started = c2.date_input("Started", format="DD/MM/YYYY")
        target = c3.date_input("Restoration target", value=None, format="DD/MM/YYYY")
        text = st.text_area("Description")
        if st.form_submit_button("Add incident"):
            start = datetime.combine(started, time(0), LONDON)
            attempt(
                lambda: add_incident(
                    data.store(),
                    actor,
                    name=title,
                    started_at=start,
                    target_date=target,
                    description=text,
                ),
                f"Added incident {title}.",
            )
    incidents = data.read("incidents")
    if not incidents.empty:
        with st.form("move_target", clear_on_submit=True):
            c1, c2 = st.columns(2)
            which = c1.selectbox("Incident", list(incidents["name"]), key="target_incident")
            moved = c2.date_input(
                "New restoration target", value=None, format="DD/MM/YYYY", key="target_date"
            )
            if st.form_submit_button("Move target"):
                attempt(
                    lambda: set_incident_target(data.store(), actor, name=which, target_date=moved),
                    f"Target for {which} set to {moved or 'none'}.",
                )
    st.dataframe(
        incidents.assign(started_at=[show(t) for t in incidents["started_at"]]),
        hide_index=True,
        width="stretch",
        column_order=["name", "started_at", "target_date", "description"],
        column_config={
            "name": "Name",
            "started_at": "Started",
            "target_date": "Restoration target",
            "description": "Description",
        },
    )

with tabs[4]:
    st.write(
        "Columns: `branch,system,state,at,note,eta` (and everything an export writes). "
        "Every row is checked first; then all rows are written, or none."
    )
    upload = st.file_uploader("Status CSV", type=["csv"], key="import_file")
    if upload is not None:
        raw = upload.getvalue()
        try:
            count = import_csv(data.store(), actor, raw, dry_run=True)
        except ImportRefused as e:
            st.error(f"Nothing can be imported: {len(e.errors)} problems.", icon=":material/error:")
            st.dataframe({"Problem": e.errors}, hide_index=True, width="stretch")
        except RestoreError as e:
            st.error(session.plain(str(e)))
        else:
            rows, _ = parse_csv(raw.decode("utf-8-sig"), now_utc())
            st.write(f"Preview: {count} rows, all valid.")
            st.dataframe(
                [
                    {
                        "Line": r.line,
                        "Branch": r.branch,
                        "System": r.system,
                        "State": r.change.state,
                        "Effective": show(r.change.at) if r.change else "",
                        "Note": r.change.note,
                        "Expected": r.change.eta,
                    }
                    for r in rows
                ],
                hide_index=True,
                width="stretch",
            )
            if st.button(f"Import {count} rows", type="primary"):
                attempt(lambda: import_csv(data.store(), actor, raw), f"Imported {count} rows.")

with tabs[5]:
    st.write("The whole event log, every column, nothing left out.")
    if st.button("Prepare the export"):
        with st.spinner("Reading the event log..."):
            rows = export_rows(data.store(), actor)
        st.write(f"{len(rows)} events.")
        c1, c2 = st.columns(2)
        for col, (label, text, name, mime) in zip(
            (c1, c2),
            (
                ("Download CSV", to_csv(rows), "restore-events.csv", "text/csv"),
                ("Download JSON", to_json(rows), "restore-events.json", "application/json"),
            ),
            strict=True,
        ):
            col.download_button(label, text, name, mime, on_click="ignore")

with tabs[6]:
    st.write(
        "Every change to users, branches, systems, incidents, targets and workarounds, every "
        "sign-in (and failed one), export and publication. Each entry carries the hash of the "
        "one before, so a changed or removed entry breaks the chain."
    )
    if st.button("Check the chain"):
        result = audit.verify(data.store())
        (st.success if result.ok else st.error)(result.message())
    log = audit.entries(data.store(), limit=500)
    st.dataframe(
        log.assign(at=[show(t) for t in log["at"]]),
        hide_index=True,
        width="stretch",
        column_order=["id", "at", "actor", "action", "subject", "details"],
        column_config={
            "id": "Entry",
            "at": "When (London)",
            "actor": "Who",
            "action": "What",
            "subject": "On",
            "details": st.column_config.TextColumn("Details", width="large"),
        },
    )
    if st.button("Prepare the audit log for the regulator (CSV)"):
        st.download_button(
            "Download the audit log", audit.to_csv(data.store()), "restore-audit.csv", "text/csv",
            on_click="ignore",
        )  # fmt: skip


def changed(action, success: str) -> None:
    """A write that changes what this tab lists: on success, draw the tab afresh with the
    message on top; a refusal is shown as it is."""
    try:
        action()
    except RestoreError as e:
        st.error(session.plain(str(e)), icon=":material/error:")
    else:
        st.session_state["notify_flash"] = success
        st.rerun()


def invite_or_reset(username: str) -> None:
    """One button: a link to choose a password, shown to read out or sent to the user."""
    reset = notify.has_password(data.store(), username)
    label = "Reset password" if reset else "Invite"
    send = st.checkbox(
        "Send it to their channels (otherwise the link is shown here to read out)",
        key="invite_send",
    )
    if st.button(label, key="invite_button", type="primary"):
        try:
            done = notify.invite(
                data.store(), actor, username=username,
                purpose="reset" if reset else "invite", send=send,
            )  # fmt: skip
        except RestoreError as e:
            st.error(session.plain(f"No link made: {e}"), icon=":material/error:")
            return
        ok = done.sent is None or done.sent.status == "delivered"
        (st.success if ok else st.warning)(session.plain(done.message()))
        if not ok or done.sent is None:
            st.code(done.url, language=None, wrap_lines=True)
            st.caption(f"Works once, until {show(done.expires_at)} (London time).")


with tabs[7]:
    st.write(
        "Each user's channels are Apprise URLs (SMS gateway, Signal, Teams, e-mail, a web "
        "hook...): see docs/notifications.md. Secrets in them are never shown again."
    )
    people = list(data.read("users")["username"])
    who = st.selectbox(
        "Notifications for", people, key="notify_user", index=None, placeholder="Choose a user"
    )
    if msg := st.session_state.pop("notify_flash", None):
        st.success(session.plain(msg), icon=":material/check_circle:")
    if who:
        have = notify.channel_list(data.store(), who)
        st.dataframe(
            {"Channel": [m for _, m in have] or ["no channel yet"]},
            hide_index=True, width="stretch", key="notify_channels",
        )  # fmt: skip
        with st.form("add_channel", clear_on_submit=True):
            url = st.text_input(
                "Add a channel (Apprise URL)", type="password",
                placeholder="e.g. signal://signal-api.example.org/+441234567890/+447700900123",
            )  # fmt: skip
            if st.form_submit_button("Add channel"):
                changed(lambda: notify.add_channel(data.store(), actor, username=who, url=url),
                        f"Added a channel for {who}.")  # fmt: skip
        if have:
            labels = dict(have)
            gone = st.selectbox(
                "Remove a channel", list(labels), format_func=labels.get, key="remove_channel"
            )
            if st.button("Remove channel"):
                changed(
                    lambda: notify.remove_channel(data.store(), actor, username=who,
                                                  channel_id=gone),
                    f"Removed {labels[gone]} from {who}.",
                )  # fmt: skip
        subs = notify.subscription_frame(data.store())
        mine = list(subs[(subs["username"] == who) & (subs["branch"] == "")]["kind"])
        kinds = st.multiselect(
            "Alerts about every branch", list(notify.KINDS), default=mine,
            format_func=notify.KINDS.get, key=f"alerts_{who}",
        )  # fmt: skip
        if st.button("Save alerts"):
            attempt(
                lambda: notify.subscribe(data.store(), actor, username=who, kinds=kinds),
                f"Alerts saved for {who}.",
            )
        st.subheader("Password link", anchor=False)
        invite_or_reset(who)
    st.subheader("Delivery log", anchor=False)
    sent = notify.delivery_frame(data.store())
    st.dataframe(
        sent.assign(at=[show(t) for t in sent["at"]]),
        hide_index=True,
        width="stretch",
        column_order=["at", "username", "channel", "purpose", "branch", "outcome", "detail"],
        column_config={
            "at": "When (London)", "username": "To", "channel": "Channel", "purpose": "What",
            "branch": "Branch", "outcome": "Outcome", "detail": "Why not",
        },
    )  # fmt: skip
    st.download_button(
        "Download the delivery log (CSV)", csv_safe.frame_to_csv(sent),
        "restore-deliveries.csv", "text/csv", on_click="ignore",
    )  # fmt: skip
