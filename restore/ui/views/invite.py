"""Choose your password: the page an invitation or password-reset link opens, without
signing in. A used, replaced or expired link gets a clear page and no form."""

import streamlit as st
from streamlit.errors import StreamlitAPIException

from restore import notify
from restore.domain import RestoreError
from restore.timefmt import show
from restore.ui import data
from restore.ui.session import plain
from restore.ui.views import VIEWS

DONE = "_invite_done"


def sign_in_link() -> None:
    try:
        st.page_link(str(VIEWS["sign_in"].path), label="Sign in", icon=":material/login:")
    except StreamlitAPIException:  # signed in already: the sign-in page is not in the menu
        st.markdown("[Sign in](/sign_in)")


value = st.query_params.get("invite")
# Keyed by link: a later link in the same browser gets its own form.
if done := st.session_state.get(DONE, {}).get(value):
    st.title("Password saved")
    st.success(
        f"Your password is saved. Next: sign in with the username {done} and your new password.",
        icon=":material/check_circle:",
    )
    sign_in_link()
    st.stop()

try:
    link = notify.link_view(data.store(), value)
except notify.LinkRefused as e:
    st.title("This link does not work")
    st.error(str(e), icon=":material/link_off:")
    st.write("Next: ask HQ IT to send you a new link. If you already chose a password, sign in.")
    sign_in_link()
    st.stop()

st.title("Choose your password" if link.purpose == "invite" else "Choose a new password")
st.write(f"Hello {plain(link.display_name)}. Your username is **{plain(link.username)}**.")
with st.form("choose_password", border=True):
    st.text_input("Username", value=link.username, disabled=True, autocomplete="username")
    password = st.text_input(
        "New password (at least 8 characters)", type="password", autocomplete="new-password"
    )
    again = st.text_input("The same password again", type="password", autocomplete="new-password")
    saved = st.form_submit_button("Save my password", type="primary", width="stretch")
st.caption(f"This link works once, until {show(link.expires_at)} (London time).")
if saved:
    try:
        username = notify.choose_password(data.store(), value, password, again=again)
    except RestoreError as e:
        st.error(plain(f"Not saved: {e}"), icon=":material/error:")
    else:
        st.session_state.setdefault(DONE, {})[value] = username
        st.rerun()
