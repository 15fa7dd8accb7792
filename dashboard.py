"""Restore dashboard: sign-in, then each role's pages (`streamlit run restore/ui/serve.py`).

`streamlit run dashboard.py` works too; sign-in then lasts for the browser tab
only, since the cookie routes live in restore/ui/serve.py.
"""

import logging
import os

import streamlit as st
from sqlalchemy.exc import DBAPIError

from restore.access import PAGES, may_see
from restore.ui import data, session
from restore.ui.views import HERE, VIEWS, refusal_page, style

st.set_page_config(page_title="Restore", page_icon=":material/healing:", layout="wide")
style()
log = logging.getLogger("restore")
DATABASE_DOWN = (
    "The shared database is not answering. Nothing you entered was lost; try again in a minute."
)
FAILED = (
    "Something went wrong on our side. Nothing you entered was lost; HQ IT can find the "
    "details in the server log."
)

LINK_PAGES = (
    ("invite", "invite.py", "Choose your password"),
    ("checkin", "checkin_link.py", "Check in"),
)


def navigation(actor) -> list[st.Page]:
    """This role's pages (a refusal at the URL of each page it may not see), home first."""
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
    # Pages a link opens for anyone, signed in or not: /?invite=TOKEN, /?checkin=TOKEN.
    by_link = {
        param: st.Page(str(HERE / file), title=title, url_path=param, visibility="hidden")
        for param, file, title in LINK_PAGES
    }

    def home() -> None:
        """The root URL: a link's page, else this role's first page (every real page keeps
        its own URL)."""
        params = st.query_params.to_dict()
        target = next((by_link[p] for p in by_link if params.get(p)), landing)
        st.switch_page(target, query_params=params)

    out = [
        st.Page(home, title="Home", default=True, visibility="hidden"),
        *pages.values(),
        # Issue 11's Recovery page: hidden (and refusing, by itself) for roles without it.
        st.Page(
            str(HERE / "recovery.py"),
            title="Recovery",
            icon=":material/fact_check:",
            url_path="recovery",
            visibility="visible" if actor.role in ("hq-it", "leadership") else "hidden",
        ),
        *by_link.values(),
    ]
    if actor.is_anonymous:
        view = VIEWS["sign_in"]
        out.append(st.Page(str(view.path), title=view.title, icon=view.icon, url_path="sign_in"))
    return out


def sidebar(actor, home: st.Page) -> None:
    with st.sidebar:
        if actor.is_anonymous:
            st.caption("Members: the public status page needs no sign-in.")
            return
        st.caption("Signed in as")
        st.text(session.who(actor))
        if st.button("Sign out", icon=":material/logout:"):
            session.do_sign_out()
            st.switch_page(home)


def run() -> None:
    """Sign-in, then the pages this role may see."""
    if not data.schema_ready():
        st.error("The database has no schema yet: run `python -m restore init` and `seed`.")
        st.stop()
    actor = session.current_actor()
    pages = navigation(actor)
    sidebar(actor, pages[0])
    st.navigation(pages).run()


# Users see a clear sentence; hosts, ports, SQL and tracebacks go to the server log only.
try:
    run()
except DBAPIError:
    log.exception("database error while serving a page")
    st.error(DATABASE_DOWN, icon=":material/cloud_off:")
except Exception:
    if os.environ.get("RESTORE_DEV") == "1":
        raise
    log.exception("error while serving a page")
    st.error(FAILED, icon=":material/error:")
