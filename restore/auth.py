"""Sign-in with local accounts, lockout, and revocable browser sessions.

A session cookie is `token.signature`: a random token (the database keeps only
its SHA-256) signed with a per-deployment key, so a forged or altered cookie is
refused before any lookup, and signing out revokes the session everywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from restore.access import Actor
from restore.directory import hash_password, password_matches
from restore.domain import RestoreError
from restore.store import Store, now_utc, sessions, settings, users

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
IDLE_LIMIT = timedelta(hours=8)
TOUCH_EVERY = timedelta(minutes=1)
COOKIE_NAME = "restore_session"
# One message for every failure, so a stranger learns nothing about which names exist.
GENERIC_FAILURE = "Sign-in failed: check your username and password and try again."
# Verified against when the username is unknown, so timing does not reveal who exists.
_DUMMY_HASH = hash_password("not a real password")


class SignInFailed(RestoreError):
    """Wrong name, wrong password, inactive or locked account: deliberately indistinguishable."""


def _actor(row) -> Actor:
    return Actor(row.username, row.role, row.branch_id, row.display_name)


def sign_in(store: Store, username: str, password: str, *, now: datetime | None = None) -> Actor:
    """Check a password; count failures, locking the account for 15 minutes after 5 in a row."""
    now = now or now_utc()
    with store.write() as conn:
        name = (username or "").strip()
        row = conn.execute(select(users).where(users.c.username == name)).first()
        if row is None or not row.password_hash:
            password_matches(_DUMMY_HASH, password or "")
            raise SignInFailed(GENERIC_FAILURE)
        locked = row.locked_until is not None and row.locked_until > now
        ok = password_matches(row.password_hash, password or "") and not locked and row.active
        if ok:
            conn.execute(
                update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=None)
            )
            return _actor(row)
        if not locked:
            failures = row.failed_logins + 1
            values = {"failed_logins": failures}
            if failures >= MAX_FAILURES:
                values = {"failed_logins": 0, "locked_until": now + LOCKOUT}
            conn.execute(update(users).where(users.c.id == row.id).values(**values))
    raise SignInFailed(GENERIC_FAILURE)


def actor_by_email(store: Store, email: str) -> Actor | None:
    """The active local account whose e-mail matches (for OpenID Connect sign-in)."""
    if not email:
        return None
    with store.read() as conn:
        row = conn.execute(
            select(users).where(users.c.email == email.strip().lower(), users.c.active.is_(True))
        ).first()
    return _actor(row) if row else None


# --- sessions ----------------------------------------------------------------


def _secret(store: Store) -> bytes:
    """RESTORE_SECRET, or a key generated once and kept in the database."""
    if os.environ.get("RESTORE_SECRET"):
        return os.environ["RESTORE_SECRET"].encode()
    query = select(settings.c.value).where(settings.c.key == "cookie_key")
    with store.read() as conn:
        value = conn.execute(query).scalar()
    if value is None:
        with store.write() as conn:
            value = conn.execute(query).scalar()
            if value is None:
                value = secrets.token_hex(32)
                conn.execute(insert(settings).values(key="cookie_key", value=value))
    return value.encode()


def _sign(store: Store, token: str) -> str:
    return hmac.new(_secret(store), token.encode(), hashlib.sha256).hexdigest()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(store: Store, username: str, *, now: datetime | None = None) -> str:
    """Open a session for a signed-in user; returns the cookie value."""
    now = now or now_utc()
    token = secrets.token_urlsafe(32)
    with store.write() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()
        conn.execute(
            insert(sessions).values(
                token_hash=_digest(token), user_id=user_id, created_at=now, last_seen_at=now
            )
        )
    return f"{token}.{_sign(store, token)}"


def resume_session(
    store: Store, cookie: str | None, *, now: datetime | None = None
) -> Actor | None:
    """The user a cookie belongs to, or None if it is forged, revoked or idle for 8 hours.

    The role and branch are re-read from the database every time.
    """
    now = now or now_utc()
    token, _, signature = (cookie or "").partition(".")
    if not token or not hmac.compare_digest(signature, _sign(store, token)):
        return None
    q = (
        select(sessions.c.id, sessions.c.last_seen_at, sessions.c.revoked_at, users)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == _digest(token))
    )
    with store.read() as conn:
        row = conn.execute(q).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if now - row.last_seen_at > IDLE_LIMIT:
        _revoke(store, row.id, now)
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        with store.write() as conn:
            conn.execute(update(sessions).where(sessions.c.id == row.id).values(last_seen_at=now))
    return _actor(row)


def _revoke(store: Store, session_id: int, now: datetime) -> None:
    with store.write() as conn:
        conn.execute(update(sessions).where(sessions.c.id == session_id).values(revoked_at=now))


def end_session(store: Store, cookie: str | None, *, now: datetime | None = None) -> None:
    """Sign out: revoke the cookie's session (a no-op for an unknown cookie)."""
    token, _, _ = (cookie or "").partition(".")
    if not token:
        return
    with store.write() as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.token_hash == _digest(token), sessions.c.revoked_at.is_(None))
            .values(revoked_at=now or now_utc())
        )


TICKET_LIFETIME = timedelta(seconds=60)


def exchange_ticket(store: Store, ticket: str | None, *, now: datetime | None = None) -> str | None:
    """Trade a fresh sign-in's one-use ticket for the long-lived session cookie.

    The page hands the browser a ticket in a URL; the cookie route calls this and
    sets the returned value as an HttpOnly cookie. A ticket older than a minute,
    used before, or forged returns None.
    """
    now = now or now_utc()
    token, _, signature = (ticket or "").partition(".")
    if not token or not hmac.compare_digest(signature, _sign(store, token)):
        return None
    with store.write() as conn:
        row = conn.execute(
            select(sessions.c.id, sessions.c.created_at, users.c.username)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == _digest(token), sessions.c.revoked_at.is_(None))
        ).first()
        if row is None or now - row.created_at > TICKET_LIFETIME:
            return None
        conn.execute(update(sessions).where(sessions.c.id == row.id).values(revoked_at=now))
    return start_session(store, row.username, now=now)
