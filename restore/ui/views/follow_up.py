"""Follow-up for HQ IT: who to chase. Quiet and never-reported branches (with the chair's
phone number and when each was last chased), one button that sends their chairs a one-tap
check-in link, overdue dates, and systems waiting for HQ IT's checks, which can be verified
one at a time on the branch page or several at once here."""

import pandas as pd
import streamlit as st

from restore import chasing, csv_safe, notify
from restore.domain import RestoreError
from restore.records import verify_waiting
from restore.store import now_utc
from restore.ui import data, session
from restore.ui.views import VIEWS, cards, guard

actor = session.current_actor()
guard(actor, "follow_up")
st.title("Follow-up")
st.caption("Select a row (on a phone: choose it under the cards) to open that branch's page.")
now = now_utc()
board = data.read("board")
BRANCH_PAGE = str(VIEWS["my_branch"].path)

if msg := st.session_state.pop("follow_up_flash", None):
    st.success(msg, icon=":material/check_circle:")


def open_branch(row: pd.Series, **extra) -> None:
    st.switch_page(BRANCH_PAGE, query_params={"branch": row["slug"], **extra})


def section(title: str, df: pd.DataFrame, shown: list[str], key: str, empty: str, **link) -> None:
    st.subheader(f"{title} ({len(df)})")
    if df.empty:
        st.success(empty)
        return
    with st.container(key=f"wide_{key}"):
        event = st.dataframe(
            df[shown],
            column_config={
                "Last note": st.column_config.TextColumn(width="medium"),
                "Chair": st.column_config.TextColumn(width="large"),
            },
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key=key,
        )
        if event.selection.rows:
            row = df.iloc[event.selection.rows[0]]
            open_branch(row, **{k: row.get(v, v) for k, v in link.items()})
    title_col, *rest = shown
    cards(df, title_col, {c: c for c in rest}, key)
    with st.container(key=f"narrow_{key}_open"):
        labels = {
            i: f"{r[title_col]}" + (f" · {r['System']}" if "System" in r else "")
            for i, r in df.iterrows()
        }
        pick = st.selectbox(
            f"Open a branch from {title.lower()}",
            list(labels),
            format_func=labels.get,
            index=None,
            key=f"pick_{key}",
        )
        if pick is not None:
            row = df.loc[pick]
            open_branch(row, **{k: row.get(v, v) for k, v in link.items()})
    st.download_button(
        f"Download as CSV: {title}",
        csv_safe.frame_to_csv(df[shown]),
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"dl:{key}",
    )


def send_reminders() -> None:
    """One button: every quiet or never-reported branch's chair gets a one-tap link."""
    st.caption(
        'Each chair of a branch below gets a link that records "Nothing has changed" in one '
        "tap (once, for 24 hours). Nobody is reminded twice within 12 hours."
    )
    if st.button("Send reminders", icon=":material/send:", key="send_reminders"):
        try:
            done = notify.remind(data.store(), actor)
        except RestoreError as e:
            st.error(session.plain(f"Nothing sent: {e}"), icon=":material/error:")
            return
        st.session_state["reminders_done"] = [
            {"Branch": r.branch, "Chair": r.chair or "no chair on record", "Outcome": r.outcome}
            for r in done
        ]
        st.rerun()
    if done := st.session_state.pop("reminders_done", None):
        sent = sum(r["Outcome"] == "delivered" for r in done)
        st.success(f"Reminders delivered to {sent} chair(s).", icon=":material/check_circle:")
        st.dataframe(done, hide_index=True, width="stretch", key="reminders_result")


stale = chasing.stale_rows(board, data.read("contacts"), now)
chase_log = notify.last_chased(data.store())
chased = notify.chased_words(chase_log)
stale["Last chased"] = [chased.get(slug, "never") for slug in stale["slug"]]
section(
    "Quiet or never reported",
    stale,
    ["Branch", "Quiet for", "Last chased", "Chair", "Systems not in service", "Last update",
     "Last reported by"],
    "stale",
    "Every branch that is not fully back has reported in the last 48 hours.",
)  # fmt: skip
if not stale.empty:
    send_reminders()
section(
    "Overdue expected dates",
    chasing.overdue_rows(board, now),
    ["Branch", "System", "State", "Expected", "Days overdue", "Last reported by", "Last note"],
    "overdue",
    "No expected date has passed.",
    system="system",
)
waiting = chasing.waiting_rows(board, now)
section(
    "Waiting for HQ verification",
    waiting,
    ["Branch", "System", "Waiting since", "Days waiting", "Reported by", "Last note"],
    "verifying",
    "Nothing is waiting for HQ's checks.",
    system="system",
    verify="1",
)

if not waiting.empty:
    with st.form("verify_many", clear_on_submit=True):
        st.write("Verify several at once: each gets its own Restored event, recorded by you.")
        labels = {f"{r.slug}:{r.system}": f"{r.Branch} · {r.System}" for r in waiting.itertuples()}
        chosen = st.multiselect(
            "Systems whose security checks passed", list(labels), format_func=labels.get
        )
        note = st.text_input("Note for each (optional)", max_chars=2000)
        if st.form_submit_button("Verify and restore the selected", type="primary"):
            picked = waiting[(waiting["slug"] + ":" + waiting["system"]).isin(chosen)]
            try:
                verify_waiting(
                    data.store(),
                    actor,
                    systems_seen=[(r.slug, r.system, int(r.event_id)) for r in picked.itertuples()],
                    note=note,
                )
            except RestoreError as e:
                st.error(session.plain(f"Not recorded: {e}"), icon=":material/error:")
            else:
                st.session_state["follow_up_flash"] = (
                    f"Restored after HQ IT's checks: {len(picked)} systems."
                )
                st.rerun()

section(
    "Reminders sent",
    notify.chase_rows(chase_log),
    ["Branch", "Last chased", "Chair", "Reminder", "Checked in by link"],
    "chased",
    "No reminder has been sent yet.",
)
