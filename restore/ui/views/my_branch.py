"""A branch's page: each system's status, the update form, public workarounds, full history.

Chairs see their own branch; HQ IT picks any branch and may record on its
behalf after a phone call. The core decides what is allowed; this page only
offers the choices the core would accept.
"""

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from restore.access import Action, can
from restore.directory import set_workaround
from restore.domain import STATE_IDS, RestoreError, label_of, legal_next_states, needs_hq
from restore.records import ConflictError, record_status
from restore.store import now_utc
from restore.timefmt import LONDON, show
from restore.ui import data, session
from restore.ui.views import guard

actor = session.current_actor()
guard(actor, "my_branch")
branches = data.read("branches")


def pick_branch():
    """The chair's own branch; HQ IT chooses (a follow-up link may preselect one)."""
    if actor.role == "chair":
        return branches[branches["id"] == actor.branch_id].iloc[0]
    slugs = list(branches["slug"])
    # A follow-up click, or a link's ?branch= on first load, preselects; later the widget rules.
    wanted = st.session_state.pop("branch_choice", None)
    if "branch_pick" not in st.session_state:
        wanted = wanted or st.query_params.get("branch")
    if wanted in slugs:
        st.session_state["branch_pick"] = wanted
    names = dict(zip(branches["slug"], branches["name"], strict=True))
    slug = st.selectbox("Branch", slugs, format_func=names.get, key="branch_pick")
    st.query_params["branch"] = slug
    return branches[branches["slug"] == slug].iloc[0]


branch = pick_branch()
st.title(f"{session.plain(branch['name'])}")
st.caption(f"Region: {session.plain(branch['region'])}")
board = data.read("board")
mine = board[board["slug"] == branch["slug"]]

st.dataframe(
    mine.assign(since=[show(t) if t == t else "" for t in mine["since"]]),
    column_order=["system_name", "label", "since", "eta", "note", "updated_by", "workaround"],
    column_config={
        "system_name": "System",
        "label": "State",
        "since": "Since",
        "eta": "Expected",
        "note": st.column_config.TextColumn("Last note", width="large"),
        "updated_by": "By",
        "workaround": "Public workaround",
    },
    hide_index=True,
    width="stretch",
)


def seen_key(system: str) -> str:
    return f"seen:{branch['slug']}:{system}"


def state_choices(current: str | None) -> list[str]:
    """Legal next states this user may record (HQ-only moves left out for chairs)."""
    hq = can(actor, Action.OVERRIDE)
    return [s for s in legal_next_states(current) if hq or not needs_hq(current, s)]


def known(value):
    """A board cell's value, or None where pandas holds a gap (NaN / NaT / None)."""
    return None if value is None or pd.isna(value) else value


def update_form(row) -> None:
    current = known(row["state"])
    key = seen_key(row["system"])
    # The newest event this page showed; a newer one at submit time is a conflict.
    st.session_state.setdefault(key, int(known(row["event_id"]) or 0))
    hq = can(actor, Action.OVERRIDE)
    override = hq and st.toggle(
        "Override the transition rules",
        key=f"ovr:{key}",
        help="HQ IT only, with a written reason that the log keeps",
    )
    with st.form(f"form:{key}", border=True):
        options = list(STATE_IDS) if override else state_choices(current)
        state = st.selectbox(
            "New state",
            options,
            format_func=label_of,
            index=0 if current not in options else options.index(current),
        )
        note = st.text_area("Note", max_chars=2000, placeholder="What changed, what is next")
        now_london = now_utc().astimezone(LONDON)
        current_eta = known(row["eta"])
        # Unticked, the current expected date carries forward (the core keeps it).
        has_eta = st.checkbox(
            "Set a new expected restoration date",
            help=f"Now: {current_eta:%d %b %Y}" if current_eta else "None set yet",
        )
        eta = st.date_input(
            "Expected restoration date",
            value=max(current_eta or now_london.date(), now_london.date() + timedelta(days=7)),
            format="DD/MM/YYYY",
        )
        c1, c2 = st.columns(2)
        default = (now_london.date(), now_london.time().replace(second=0, microsecond=0))
        day = c1.date_input("Effective date", value=default[0], format="DD/MM/YYYY")
        at = c2.time_input(
            "Effective time (London)",
            value=default[1],
            step=timedelta(minutes=15),
            help="Leave as it is for now; change it for something that happened earlier",
        )
        phone = hq and st.checkbox("Recorded on the branch's behalf after a phone call")
        reason = st.text_input("Override reason", max_chars=2000) if override else None
        if st.form_submit_button("Record", type="primary"):
            submit(
                row,
                state,
                note,
                eta if has_eta else None,
                None if (day, at) == default else datetime.combine(day, at, LONDON),
                phone,
                reason,
            )
    conflict = st.session_state.get(f"conflict:{key}")
    if conflict:  # outside the form: a form may hold no other button
        st.error(session.plain(conflict), icon=":material/sync_problem:")
        if st.button("Load the latest and try again", key=f"reload:{key}"):
            st.session_state.pop(key, None)
            st.session_state.pop(f"conflict:{key}", None)
            st.rerun()


def submit(row, state, note, eta, at, phone, reason) -> None:
    key = seen_key(row["system"])
    try:
        event_id = record_status(
            data.store(),
            actor,
            branch=branch["slug"],
            system=row["system"],
            state=state,
            note=note,
            eta=eta,
            at=at,
            reason=reason,
            source="phone" if phone else "web",
            seen_event_id=st.session_state[key],
        )
    except ConflictError as e:
        st.session_state[f"conflict:{key}"] = f"Not recorded: {e}"
        return
    except RestoreError as e:
        st.error(session.plain(f"Not recorded: {e}"), icon=":material/error:")
        return
    st.session_state[key] = event_id
    st.session_state.pop(f"conflict:{key}", None)
    st.session_state["flash"] = f"Recorded: {row['system_name']} is now {label_of(state)}."
    st.rerun()


if msg := st.session_state.pop("flash", None):
    st.success(session.plain(msg), icon=":material/check_circle:")

if can(actor, Action.RECORD_STATUS, branch_id=int(branch["id"])):
    st.subheader("Record a change")
    systems = {r["system"]: r for _, r in mine.iterrows()}
    names = {k: r["system_name"] for k, r in systems.items()}
    chosen = st.radio(
        "System", list(systems), format_func=lambda k: session.plain(names[k]), horizontal=True
    )
    update_form(systems[chosen])

    with st.expander("Public workaround for members"), st.form("workaround"):
        text = st.text_input(
            f"While {session.plain(names[chosen])} is down, members can...",
            value=systems[chosen]["workaround"],
            max_chars=2000,
            placeholder="e.g. email branch.temp@example.org",
        )
        if st.form_submit_button("Save workaround"):
            try:
                set_workaround(data.store(), actor, branch=branch["slug"], system=chosen, text=text)
                st.success("Saved. The public status page shows it.")
            except RestoreError as e:
                st.error(session.plain(str(e)))

st.subheader("History")
history = data.read("history", int(branch["id"]))
st.dataframe(
    history.assign(at=[show(t) for t in history["at"]]),
    column_order=["at", "system", "state", "note", "eta", "by", "source", "reason"],
    column_config={
        "at": "When (London)",
        "system": "System",
        "state": "State",
        "note": st.column_config.TextColumn("Note", width="large"),
        "eta": "Expected",
        "by": "By",
        "source": "How",
        "reason": "Override reason",
    },
    hide_index=True,
    width="stretch",
)
