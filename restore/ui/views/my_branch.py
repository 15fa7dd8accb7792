"""A branch's page: "Nothing has changed" in one tap, each system's status, the update form,
public workarounds, each system's recovery checklist (tick an item with a note and an
evidence file), what it is blocked by, full history. Phone first: tables become cards below
640 px.

Chairs see their own branch; HQ IT picks any branch and may record on its behalf
after a phone call, or verify a system that waits for its checks. The core decides
what is allowed; this page only offers the choices the core would accept.
"""

import uuid
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from restore import branch_page, recovery_views
from restore.access import Action, can
from restore.directory import set_workaround
from restore.domain import BROKE_AGAIN, STATE_IDS, RestoreError, label_of, next_step
from restore.readmodels import versions
from restore.records import ConflictError, DuplicateSubmission, check_in_branch, record_status
from restore.recovery import GateError, checklist, evidence_file, tick
from restore.recovery.depends import blockers
from restore.recovery.evidence import EXTENSIONS
from restore.store import database_url, now_utc
from restore.timefmt import LONDON, show
from restore.ui import data, session
from restore.ui.views import cards, guard

actor = session.current_actor()
guard(actor, "my_branch")
branches = data.read("branches")
HQ = can(actor, Action.OVERRIDE)
FOCUS_CONFIRMATION = """<script>
const alert = window.parent.document.querySelector('[data-testid="stAlert"]');
if (alert) { alert.setAttribute('tabindex', '-1'); alert.focus(); }
</script>"""


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
may_record = can(actor, Action.RECORD_STATUS, branch_id=int(branch["id"]))
now = now_utc()


def flash() -> None:
    """The last write's confirmation, with keyboard focus moved to it."""
    msg = st.session_state.pop("flash", None)
    if not msg:
        return
    kind, text = msg
    (st.success if kind == "ok" else st.warning)(text, icon=":material/check_circle:")
    # Our own fixed script (no user text): keyboard users land on the confirmation.
    st.iframe(FOCUS_CONFIRMATION, height=1, tab_index=-1, alt="Moves focus to the confirmation")


flash()


def seen_key(system: str) -> str:
    return f"seen:{branch['slug']}:{system}"


def nothing_changed() -> None:
    """One tap: a check-in for every system of the branch that is not in service."""
    waiting = branch_page.check_in_candidates(mine)
    if not may_record or waiting.empty:
        return
    names = ", ".join(waiting["system_name"])
    st.subheader("Nothing has changed?")
    st.write(f"One tap tells HQ IT you checked today: {names} stay as they are.")
    if st.button("Nothing has changed", type="primary", key="nothing_changed"):
        try:
            check_in_branch(
                data.store(),
                actor,
                branch=branch["slug"],
                source="phone" if HQ and st.session_state.get("hq_phone") else "web",
                seen={
                    r.system: st.session_state.get(seen_key(r.system), int(r.event_id))
                    for r in waiting.itertuples()
                },
            )
        except RestoreError as e:
            st.error(session.plain(f"Not recorded: {e}"), icon=":material/error:")
            return
        for system in waiting["system"]:  # the page shows them afresh, with the check-ins
            st.session_state.pop(seen_key(system), None)
        st.session_state["flash"] = (
            "ok",
            f"Check-in recorded, no change: {names}. Thank you; HQ IT can see you checked today.",
        )
        st.rerun()


nothing_changed()

st.subheader("Your systems" if actor.role == "chair" else "Systems")
table = branch_page.status_rows(mine, now)
with st.container(key="wide_status"):
    st.dataframe(
        table,
        column_order=[
            "System",
            "State",
            "Since",
            "Expected",
            "Last note",
            "By",
            "Public workaround",
            "What happens next",
        ],
        column_config={
            "Last note": st.column_config.TextColumn(width="large"),
            "What happens next": st.column_config.TextColumn(width="large"),
        },
        hide_index=True,
        width="stretch",
    )
cards(
    table,
    "System",
    {
        "State": "State",
        "Since": "Since",
        "Expected": "Expected",
        "Last note": "Last note",
        "Public workaround": "Members are told",
        "What happens next": "Next",
    },
    "status",
)


@st.cache_data(show_spinner=False, max_entries=8)
def _blockers(url: str, key: tuple) -> dict:
    """Who waits on what, for the whole board; read again only after a write."""
    return blockers(data.store(), data.read("board"))


names_of = dict(zip(mine["system"], mine["system_name"], strict=False))
waits = recovery_views.blocked_lines(
    _blockers(database_url(), versions.current(data.store()).key("board")),
    branch["slug"],
    names_of,
)
if waits:
    st.warning(
        session.plain("\n\n".join(waits))
        + "\n\nIt cannot be verified until what it waits on is back in service.",
        icon=":material/link:",
    )


def known(value):
    """A board cell's value, or None where pandas holds a gap (NaN / NaT / None)."""
    return None if value is None or pd.isna(value) else value


def submit(row, state, note, eta, at, phone, reason, incident) -> None:
    key = seen_key(row["system"])
    current = known(row["state"])
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
            incident=incident,
            submission=st.session_state.get(f"sub:{key}"),
        )
    except ConflictError as e:
        st.session_state[f"conflict:{key}"] = f"Not recorded: {e}"
        return
    except DuplicateSubmission:  # a double tap: the first tap was recorded
        clear_form(key)
        st.session_state["flash"] = ("ok", "Already recorded; the second tap changed nothing.")
        st.rerun()
    except GateError as e:  # the checklist or a dependency says not yet; the core names it
        then = (
            'HQ IT may go ahead with "Override the transition rules" and a reason.'
            if HQ
            else "Tick the items in the recovery checklist below as they are done; a system "
            "that waits on another can be verified once that one is back."
        )
        st.error(session.plain(f"Not recorded: {e}. {then}"), icon=":material/rule:")
        return
    except RestoreError as e:
        st.error(session.plain(f"Not recorded: {e}"), icon=":material/error:")
        return
    st.session_state[key] = event_id
    st.session_state[f"sub:{key}"] = uuid.uuid4().hex
    clear_form(key)
    name = row["system_name"]
    if state == current:
        text = f"Check-in recorded, no change: {name} is still {label_of(state)}."
    else:
        text = f"Recorded: {name} is now {label_of(state)}. {next_step(state)}"
    st.session_state["flash"] = ("ok", text)
    st.rerun()


def clear_form(key: str) -> None:
    """Start a fresh, empty form: new widget keys, since a browser keeps a widget's value
    for as long as its key lives."""
    st.session_state[f"gen:{key}"] = st.session_state.get(f"gen:{key}", 0) + 1
    for name in ("at0", "conflict", "broke"):
        st.session_state.pop(f"{name}:{key}", None)


def state_choices(current: str | None, override: bool) -> list[str]:
    return list(STATE_IDS) if override else branch_page.choices(actor, current)


def update_form(row, incidents: list[str]) -> None:
    current = known(row["state"])
    key = seen_key(row["system"])
    # The newest event this page showed; a newer one at submit time is a conflict.
    st.session_state.setdefault(key, int(known(row["event_id"]) or 0))
    st.session_state.setdefault(f"sub:{key}", uuid.uuid4().hex)
    wkey = f"{key}:{st.session_state.get(f'gen:{key}', 0)}"  # the form's widgets' keys
    st.info(next_step(current), icon=":material/info:")
    override = HQ and st.toggle(
        "Override the transition rules",
        key=f"ovr:{key}",
        help="HQ IT only, with a written reason that the log keeps",
    )
    waiting = current == "verifying" and not HQ
    if waiting:
        st.success(
            f"Waiting for HQ IT's security checks since {show(known(row['since']))}; "
            "nothing for you to do.",
            icon=":material/hourglass_top:",
        )
        if not st.toggle("It broke again", key=f"broke:{key}"):
            return
    verify = HQ and current == "verifying" and st.session_state.get("verify") == row["system"]
    # Not clear_on_submit: a second tap must resend the same words (refused as a repeat),
    # never an empty form that would record a check-in over the change.
    with st.form(f"form:{key}", border=True):
        if waiting:
            st.write("It broke again or the checks found a problem: say what happened.")
        options = list(BROKE_AGAIN) if waiting else state_choices(current, override)
        default = "restored" if verify and "restored" in options else current
        state = st.selectbox(
            "New state",
            options,
            format_func=lambda s: f"{label_of(s)} (no change)" if s == current else label_of(s),
            index=options.index(default) if default in options else 0,
            key=f"state:{wkey}",
        )
        note = st.text_area(
            "Note", max_chars=2000, placeholder="What changed, what is next", key=f"note:{wkey}"
        )
        current_eta = known(row["eta"])
        eta = st.date_input(
            "Expected restoration date",
            value=current_eta,
            min_value=now.astimezone(LONDON).date() - timedelta(days=365),
            format="DD/MM/YYYY",
            help="Change it if the date has moved; leave it to keep it.",
            key=f"eta:{wkey}",
        )
        incident = None
        if len(incidents) > 1 and branch_page.may_start_episode(current):
            incident = st.selectbox(
                "If it has gone down: which attack is it part of?",
                incidents,
                index=None,
                placeholder="Choose when recording an outage",
                key=f"incident:{wkey}",
            )
        with st.expander("This happened earlier"):
            # Fixed when the form is first drawn, so a rerun in a later minute keeps its widgets.
            default_at = st.session_state.setdefault(
                f"at0:{key}", now.astimezone(LONDON).replace(second=0, microsecond=0)
            )
            c1, c2 = st.columns(2)
            day = c1.date_input(
                "Date it happened", value=default_at.date(), format="DD/MM/YYYY", key=f"day:{wkey}"
            )
            at = c2.time_input(
                "Time it happened (London)",
                value=default_at.time(),
                step=timedelta(minutes=15),
                key=f"time:{wkey}",
            )
        phone = HQ and st.checkbox(
            "Recorded on the branch's behalf after a phone call", key=f"phone:{wkey}"
        )
        reason = (
            st.text_input("Override reason", max_chars=2000, key=f"reason:{wkey}")
            if override
            else None
        )
        label = "Verify and restore" if verify else "Record"
        if st.form_submit_button(label, type="primary"):
            when = datetime.combine(day, at, LONDON)
            submit(
                row,
                state,
                note,
                eta if eta != current_eta else None,
                None if when == default_at else when,
                phone,
                reason,
                incident,
            )
    conflict = st.session_state.get(f"conflict:{key}")
    if conflict:  # outside the form: a form may hold no other button
        st.error(session.plain(conflict), icon=":material/sync_problem:")
        if st.button("Load the latest and try again", key=f"reload:{key}"):
            st.session_state.pop(key, None)
            st.session_state.pop(f"conflict:{key}", None)
            st.rerun()


def preselected_system(keys: list[str]) -> None:
    """A follow-up link's ?system= (and ?verify=) picks the system once, on arrival."""
    wanted = st.query_params.get("system")
    if wanted in keys and st.session_state.get("arrived_for") != (branch["slug"], wanted):
        st.session_state["arrived_for"] = (branch["slug"], wanted)
        st.session_state["system_pick"] = wanted
        if st.query_params.get("verify"):
            st.session_state["verify"] = wanted


if may_record:
    st.subheader("Record a change")
    systems = {r["system"]: r for _, r in mine.iterrows()}
    names = {k: r["system_name"] for k, r in systems.items()}
    preselected_system(list(systems))
    chosen = st.radio(
        "System",
        list(systems),
        format_func=lambda k: session.plain(names[k]),
        horizontal=True,
        key="system_pick",
    )
    update_form(systems[chosen], branch_page.open_incident_names(data.read("incidents"), now))
    if HQ:
        st.toggle("Check-ins on this page were phoned in by the branch", key="hq_phone")

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


def do_tick(system: str, item: str, note: str, upload, title: str) -> None:
    try:
        tick(
            data.store(),
            actor,
            branch=branch["slug"],
            system=system,
            item=item,
            note=note,
            file_name=upload.name if upload else None,
            file_data=upload.getvalue() if upload else None,
        )
    except RestoreError as e:  # a wrong or too big file is refused whole: nothing is kept
        st.error(session.plain(f"Not ticked: {e}"), icon=":material/error:")
        return
    st.session_state[f"tickgen:{system}"] = st.session_state.get(f"tickgen:{system}", 0) + 1
    shown = f" with {upload.name}" if upload else ""
    st.session_state["flash"] = (
        "ok",
        f"Ticked as done{shown}: {names_of[system]}, {recovery_views.short(title)}.",
    )
    st.rerun()


def tick_form(system: str, items: list[dict]) -> None:
    """Tick one open item, with a note and an optional evidence file."""
    left = recovery_views.open_items(items)
    if not left:
        return
    titles = {i["key"]: recovery_views.short(i["title"]) for i in left}
    gen = st.session_state.get(f"tickgen:{system}", 0)  # new widgets after each tick
    with st.form(f"tick:{system}:{gen}", border=False):
        item = st.selectbox(
            "Item done", list(titles), format_func=titles.get, key=f"item:{system}:{gen}"
        )
        note = st.text_input(
            "What was done (optional)", max_chars=2000, placeholder="By whom, and how",
            key=f"ticknote:{system}:{gen}",
        )  # fmt: skip
        upload = st.file_uploader(
            "Evidence file (optional): PDF, PNG or text, up to 10 MB",
            type=[e.lstrip(".") for e in EXTENSIONS],
            max_upload_size=10,
            key=f"evidence:{system}:{gen}",
        )
        if st.form_submit_button("Tick as done", type="primary", width="stretch"):
            do_tick(system, item, note, upload, titles[item])


def evidence_downloads(items: list[dict]) -> None:
    """HQ IT downloads each evidence file (every download is audited by the core)."""
    for n, f in enumerate(recovery_views.evidence_files(items)):
        st.download_button(
            f"Download {f['name']} ({f['item']}, {f['who']}, {f['when']})",
            data=lambda file_id=f["id"]: evidence_file(data.store(), actor, file_id)[2],
            file_name=f["name"],
            key=f"evidence_dl:{f['id']}:{n}",
            on_click="ignore",
            icon=":material/download:",
        )
        st.caption(f"SHA-256 {f['sha256']}")


def checklists() -> None:
    """Each system's recovery checklist: items, gate, done or not, who and when."""
    may_tick = can(actor, Action.TICK_CHECKLIST, branch_id=int(branch["id"]))
    st.subheader("Recovery checklists")
    st.caption(
        'Before a system is verified, the items marked "Before verification" must be '
        "ticked; before it is back in service, all of them."
    )
    for system, name in names_of.items():
        items = checklist(data.store(), branch=branch["slug"], system=system)
        if not items:
            continue
        summary = recovery_views.checklist_summary(items)
        with st.expander(f"{session.plain(name)}: {summary}", expanded=system == chosen_system()):
            step = recovery_views.checklist_next_step(items)
            st.info(session.plain(step), icon=":material/checklist:")
            if may_tick:  # first: on a phone the list below is long
                tick_form(system, items)
            rows = pd.DataFrame(recovery_views.checklist_rows(items))
            with st.container(key=f"wide_checklist_{system}"):
                st.dataframe(
                    rows, hide_index=True, width="stretch",
                    column_order=["Item", "Needed", "Done", "By", "When", "Note", "Evidence"],
                )  # fmt: skip
            cards(
                rows, "Card",
                {"Needed": "Needed", "By": "By", "When": "When", "Note": "Note",
                 "Evidence": "Evidence"},
                f"checklist_{system}",
            )  # fmt: skip
            if can(actor, Action.READ_EVIDENCE):
                evidence_downloads(items)


def chosen_system() -> str | None:
    return st.session_state.get("system_pick")


checklists()

st.subheader("History")
history = branch_page.history_rows(data.read("history", int(branch["id"])))
with st.container(key="wide_history"):
    st.dataframe(history, hide_index=True, width="stretch")
st.container(key="narrow_history_note").caption("The ten newest entries:")
cards(
    history.head(10),
    "When",
    {
        "System": "",
        "State": "State",
        "Note": "Note",
        "Expected": "Expected",
        "By": "By",
        "Incident": "Incident",
    },
    "history",
)
