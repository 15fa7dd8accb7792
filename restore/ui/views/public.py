"""Public status for members: does each branch's website, Hub and email work? No internal detail."""

import streamlit as st

from restore.domain import Band
from restore.ui import data

WORDS = {
    Band.IN.value: "Working",
    Band.RECOVERING.value: "Not working yet: being restored",
    Band.OUT.value: "Not working",
    "unknown": "No information yet",
}

st.title("Service status")
st.caption("Whether each branch's services work today. Updated as branches report.")
board = data.read("board")
branches = list(dict.fromkeys(board["branch"]))
chosen = st.selectbox("Find your branch", branches, index=None, placeholder="Type a branch name")
shown = board[board["branch"] == chosen] if chosen else board
in_service = (shown["band"] == Band.IN.value).sum()
if chosen is None:
    st.metric("Services working across all branches", f"{in_service} of {len(shown)}")
table = shown.assign(
    status=[
        "Working, with some problems" if s == "degraded" else WORDS[b]
        for s, b in zip(shown["state"], shown["band"], strict=True)
    ]
)[["branch", "system_name", "status", "workaround"]]
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * len(table), 700),
    column_config={
        "branch": "Branch",
        "system_name": "Service",
        "status": st.column_config.TextColumn("Status", width="medium"),
        "workaround": st.column_config.TextColumn("Meanwhile", width="large"),
    },
)
