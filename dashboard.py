"""Restore dashboard: `streamlit run dashboard.py`."""

import streamlit as st

from restore.timefmt import show
from restore.ui import data

st.set_page_config(page_title="Restore", page_icon=":material/healing:", layout="wide")
st.title("Restore: where are we?")

if not data.schema_ready():
    st.error("The database has no schema yet: run `python -m restore init` and `seed`.")
    st.stop()

board = data.board()
shown = board[["branch", "region", "system_name", "label", "since", "eta", "note", "updated_by"]]
shown = shown.assign(since=[show(t) if t == t else "" for t in board["since"]])
in_service = int((board["band"] == "in service").sum())
st.metric("Systems in service", f"{in_service} of {len(board)}")
st.dataframe(shown, hide_index=True, width="stretch")
