"""Public status for members: does each branch's website, Hub and email work? No internal detail.

One branch's status has its own URL (?branch=slug), to share; on a phone each branch is a
group of cards with no repeated branch column. However many branches there are, the page
shows a line per region and at most one page of branches (restore.scale.PAGE_SIZE) at a time.
"""

import streamlit as st

from restore import public_status, scale
from restore.timefmt import show
from restore.ui import data
from restore.ui.session import plain
from restore.ui.views import cards

st.title("Service status")
board = data.read("board")
updated = public_status.last_updated(board)
st.caption(
    "Whether each branch's services work today. "
    + (f"Last updated {show(updated)} (London time)." if updated else "No reports yet.")
)
names = dict(zip(board["slug"], board["branch"], strict=False))
wanted = st.query_params.get("branch")
chosen = st.selectbox(
    "Find your branch",
    list(names),
    format_func=names.get,
    index=list(names).index(wanted) if wanted in names else None,
    placeholder="Type a branch name",
)
if chosen:
    st.query_params["branch"] = chosen
    st.caption("Share this page's address to send someone straight to this branch.")
    table = public_status.rows(board[board["slug"] == chosen])
else:
    st.query_params.pop("branch", None)
    n, total = public_status.working(board)
    st.metric("Services working across all branches", f"{n} of {total}")
    lines = public_status.region_lines(board)
    if len(lines) > 1:
        with st.expander("Region by region", expanded=scale.grid_too_wide(board)):
            st.markdown("\n".join(f"- {plain(line)}" for line in lines))
    region = st.selectbox(
        "Show the branches of", scale.regions(board), index=None, placeholder="Every region"
    )
    part = public_status.listing(board, region=region)
    if part.pages > 1:
        page = st.number_input("Page", 1, part.pages, key=f"public_page_{region}")
        part = public_status.listing(board, region=region, page=page)
    st.caption(part.caption)
    table = part.frame
columns = ["Service", "Status", "Expected back", "Meanwhile"]
with st.container(key="wide_public"):
    st.dataframe(
        table[columns if chosen else ["Branch", *columns]],
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(table), 700),
        column_config={"Meanwhile": st.column_config.TextColumn(width="large")},
    )
with st.container(key="narrow_public"):
    for slug, part in table.groupby("slug", sort=False):
        st.subheader(plain(names[slug]), anchor=False)
        cards(
            part,
            "Service",
            {"Status": "", "Expected back": "Expected back", "Meanwhile": "Meanwhile"},
            f"public_{slug}",
        )
