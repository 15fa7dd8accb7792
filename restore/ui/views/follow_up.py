"""Follow-up for HQ IT: who to chase. Stale branches, overdue dates, systems awaiting checks."""

import pandas as pd
import streamlit as st

from restore import queries
from restore.store import now_utc
from restore.timefmt import show
from restore.ui import data, session
from restore.ui.views import VIEWS, guard

guard(session.current_actor(), "follow_up")
st.title("Follow-up")
st.caption("Select a row to open that branch's page.")
now = data.minute(now_utc())
board = data.read("board")


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text that a spreadsheet would run as a formula (=, +, -, @) gets a leading apostrophe."""
    return df.apply(
        lambda col: col.map(lambda v: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v)
    )


def section(title: str, df: pd.DataFrame, columns: dict, key: str, empty: str) -> None:
    st.subheader(f"{title} ({len(df)})")
    if df.empty:
        st.success(empty)
        return
    shown = df.copy()
    for col in shown.columns:
        if isinstance(shown[col].dtype, pd.DatetimeTZDtype):
            shown[col] = [show(t) for t in shown[col]]
    event = st.dataframe(
        shown[list(columns)],
        column_config=columns,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=key,
    )
    st.download_button(
        f"Download {title.lower()} as CSV",
        spreadsheet_safe(df).to_csv(index=False),
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"dl:{key}",
    )
    if event.selection.rows:
        slug = board.loc[board["branch"] == df.iloc[event.selection.rows[0]]["branch"], "slug"]
        st.session_state["branch_choice"] = slug.iloc[0]
        st.switch_page(str(VIEWS["my_branch"].path))


stale = queries.stale(board, now)
section(
    "Stale branches",
    stale,
    {
        "branch": "Branch",
        "region": "Region",
        "last_update": "Last update",
        "hours_quiet": st.column_config.NumberColumn("Hours quiet", format="%.0f"),
        "not_in_service": "Systems not in service",
        "last_by": "Last reported by",
    },
    "stale",
    "Every branch that is not fully back has reported in the last 48 hours.",
)

overdue = queries.overdue(board, now)
section(
    "Overdue expected dates",
    overdue,
    {
        "branch": "Branch",
        "system_name": "System",
        "label": "State",
        "eta": "Expected",
        "days_overdue": "Days overdue",
        "updated_by": "Last reported by",
        "note": st.column_config.TextColumn("Last note", width="medium"),
    },
    "overdue",
    "No expected date has passed.",
)

waiting = board[board["state"] == "verifying"].sort_values("since")
waiting = waiting.assign(
    days_waiting=((pd.Timestamp(now) - waiting["since"]).dt.total_seconds() / 86400).round(1)
)
section(
    "Waiting for HQ verification",
    waiting,
    {
        "branch": "Branch",
        "system_name": "System",
        "since": "Waiting since",
        "days_waiting": "Days waiting",
        "updated_by": "Reported by",
        "note": st.column_config.TextColumn("Last note", width="medium"),
    },
    "verifying",
    "Nothing is waiting for HQ's checks.",
)
