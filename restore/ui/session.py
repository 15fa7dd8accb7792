"""Who is signed in: a session token in session state or in the HttpOnly cookie.

The role and branch are re-read from the database on every run, and a revoked
or idle session signs the tab out, so a changed role or a sign-out elsewhere
takes effect at once. No widget uses SESSION_KEY.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

import streamlit as st

from restore.access import ANONYMOUS, ROLES, Actor
from restore.auth import (
    COOKIE_NAME,
    NEEDS_COOKIES,
    NONCE_COOKIE,
    SignInFailed,
    actor_by_email,
    end_session,
    issue_ticket,
    resume_session,
    sign_in,
    start_session,
)
from restore.ui.data import store

SESSION_KEY = "_restore_session"


def _cookie_routes() -> bool:
    """True when served by restore/ui/serve.py, which can set and clear the cookie."""
    return os.environ.get("RESTORE_COOKIE_ROUTES") == "1"


def _redirect(url: str) -> None:
    """Send the browser to `url` in this tab, the way st.logout does."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    msg = ForwardMsg()
    msg.auth_redirect.url = url
    get_script_run_ctx().enqueue(msg)


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def _browser_cookie(name: str = COOKIE_NAME) -> str | None:
    value = st.context.cookies.get(name)
    return value if isinstance(value, str) else None  # AppTest has no real cookies


def current_actor() -> Actor:
    """The signed-in user, or ANONYMOUS."""
    token = st.session_state.get(SESSION_KEY) or _browser_cookie()
    actor = resume_session(store(), token) if token else None
    if actor is None and _oidc_configured() and st.user.is_logged_in:
        verified = st.user.get("email_verified", True) is not False  # refuse a provider's "no"
        actor = actor_by_email(store(), str(st.user.get("email") or "")) if verified else None
        if actor:
            token = start_session(store(), actor.username)
    if actor is None:
        st.session_state.pop(SESSION_KEY, None)
        return ANONYMOUS
    st.session_state[SESSION_KEY] = token
    return actor


def do_sign_in(username: str, password: str) -> bool:
    """Check the password (raises SignInFailed) and sign in.

    With the cookie routes, the browser is sent to trade a one-use ticket, bound to its
    nonce cookie, for the session cookie, and the app reloads signed in: returns True.
    Without them the session lives in this tab's state: returns False (rerun the script).
    """
    if not _cookie_routes():
        actor = sign_in(store(), username, password)
        st.session_state[SESSION_KEY] = start_session(store(), actor.username)
        return False
    nonce = _browser_cookie(NONCE_COOKIE)
    if not nonce:  # checked first, so a browser refusing cookies never uses up a try
        raise SignInFailed(NEEDS_COOKIES)
    actor = sign_in(store(), username, password)
    ticket = issue_ticket(store(), actor.username, nonce=nonce)
    _redirect(f"/api/session?t={quote(ticket)}")
    return True


def do_sign_out() -> None:
    """Revoke the session everywhere and clear the cookie; the caller moves to the home page."""
    end_session(store(), st.session_state.pop(SESSION_KEY, None))
    end_session(store(), _browser_cookie())
    if _oidc_configured() and st.user.is_logged_in:
        st.logout()
    if _cookie_routes():
        _redirect("/api/sign-out")


def who(actor: Actor) -> str:
    return f"{actor.display_name or actor.username} ({ROLES.get(actor.role or '', '')})"


_MD = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>:~$])")


def plain(text: str) -> str:
    """User text made inert for places that render markdown (headings, labels)."""
    return _MD.sub(r"\\\1", str(text))


def sentence(text: str) -> str:
    """First letter in capitals, the rest as it is (names and months keep theirs)."""
    return text[:1].upper() + text[1:]
