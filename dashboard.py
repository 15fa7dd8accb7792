"""Restore dashboard: sign-in, then each role's pages (`streamlit run restore/ui/serve.py`).

`streamlit run dashboard.py` works too; sign-in then lasts for the browser tab
only, since the cookie routes live in restore/ui/serve.py.
"""

import streamlit as st

from restore.access import PAGES, may_see
from restore.ui import data, session
from restore.ui.views import VIEWS, refusal_page, style

st.set_page_config(page_title="Restore", page_icon=":material/healing:", layout="wide")
style()

if not data.schema_ready():
    st.error("The database has no schema yet: run `python -m restore init` and `seed`.")
    st.stop()

actor = session.current_actor()
pages = {
    name: st.Page(
        str(VIEWS[name].path), title=VIEWS[name].title, icon=VIEWS[name].icon, url_path=name
    )
    if may_see(actor, name)
    else refusal_page(name, actor)
    for name in PAGES
}
landing = pages[
    "public" if actor.is_anonymous else "my_branch" if actor.role == "chair" else "overview"
]


def home() -> None:
    """The root URL: go to this role's first page (every real page keeps its own URL)."""
    st.switch_page(landing, query_params=st.query_params.to_dict())


pages = [st.Page(home, title="Home", default=True, visibility="hidden"), *pages.values()]
if actor.is_anonymous:
    pages.append(
        st.Page(
            str(VIEWS["sign_in"].path), title="Sign in", icon=":material/login:", url_path="sign_in"
        )
    )

with st.sidebar:
    if actor.is_anonymous:
        st.caption("Members: the public status page needs no sign-in.")
    else:
        st.caption("Signed in as")
        st.text(session.who(actor))
        if st.button("Sign out", icon=":material/logout:"):
            session.do_sign_out()
            st.switch_page(pages[0])

st.navigation(pages).run()
