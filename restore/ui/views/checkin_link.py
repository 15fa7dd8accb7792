"""One-tap check-in: the page a reminder's link opens, without signing in.

"Nothing has changed" records a check-in for the link's branch (source `link`), once,
within 24 hours; "Something changed" leads to the branch page, after signing in.
"""

import streamlit as st

from restore import notify
from restore.domain import RestoreError
from restore.timefmt import show
from restore.ui import session
from restore.ui.data import store
from restore.ui.session import plain
from restore.ui.views import VIEWS

DONE = "_checkin_done"


def something_changed() -> None:
    """The branch page, signed in (the sign-in page lands a chair there)."""
    actor = session.current_actor()
    target = "my_branch" if not actor.is_anonymous else "sign_in"
    st.switch_page(str(VIEWS[target].path))


value = st.query_params.get("checkin")
# Keyed by link: a later link in the same browser is a new check-in, not this thank-you.
if done := st.session_state.get(DONE, {}).get(value):
    st.title("Thank you")
    st.success(done, icon=":material/check_circle:")
    st.write("Nothing else to do. If something changes later, sign in and record it.")
    st.stop()

try:
    view = notify.checkin_view(store(), value)
except notify.LinkRefused as e:
    st.title("This link does not work")
    st.error(str(e), icon=":material/link_off:")
    st.write("Next: sign in to record your branch's status, or wait for the next reminder.")
    if st.button("Sign in", type="primary", width="stretch", icon=":material/login:"):
        something_changed()
    st.stop()

branch = view.link.branch_name or ""
st.title(f"{plain(branch)}: has anything changed?")
st.write(f"Hello {plain(view.link.display_name)}. This is what Restore shows for {plain(branch)}:")
with st.container(border=True, key="link_systems"):
    st.text("\n".join(f"{r.System}: {r.State}" for r in view.systems.itertuples()))
if st.button("Nothing has changed", type="primary", width="stretch", key="link_nothing_changed"):
    try:
        ids = notify.check_in_by_link(store(), value)
    except RestoreError as e:
        st.error(plain(f"Not recorded: {e}"), icon=":material/error:")
    else:
        st.session_state.setdefault(DONE, {})[value] = (
            f"Check-in recorded for {branch}: {len(ids)} system(s) stay as they are. "
            "HQ IT can see you checked today."
        )
        st.rerun()
if st.button("Something changed", width="stretch", key="link_something_changed"):
    something_changed()
st.caption(
    f"This link works once, for {plain(branch)} only, until {show(view.link.expires_at)} "
    '(London time). "Something changed" asks you to sign in, then opens your branch\'s form.'
)
