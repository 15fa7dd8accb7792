"""Sign in with a local account (and with the organisation's identity provider, if configured)."""

import os

import streamlit as st

from restore.auth import MAX_FAILURES, SignInFailed
from restore.ui import session

st.title("Sign in to Restore")
with st.form("sign_in", border=True, width=420):
    username = st.text_input("Username", autocomplete="username")
    password = st.text_input("Password", type="password", autocomplete="current-password")
    submitted = st.form_submit_button("Sign in", type="primary")
if submitted:
    try:
        redirecting = session.do_sign_in(username, password)
    except SignInFailed as e:
        st.error(str(e), icon=":material/error:")
    else:
        if redirecting:
            st.info("Signing in...")
            st.stop()
        st.rerun()
st.write(
    "No account yet, or forgotten your password? HQ IT sets up accounts and passwords: "
    + (os.environ.get("RESTORE_SUPPORT_CONTACT") or "ask HQ IT at headquarters.")
)
st.caption(f"After {MAX_FAILURES} failed tries an account is locked for 15 minutes.")

if session._oidc_configured():
    st.divider()
    st.button("Sign in with your organisation account", on_click=st.login, icon=":material/key:")
