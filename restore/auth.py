"""Sign-in with local accounts, lockout, and revocable browser sessions.

A session cookie is `token.signature`: a random token (the database keeps only
its SHA-256) signed with a per-deployment key, so a forged or altered cookie is
refused before any lookup, and signing out revokes the session everywhere.
Sign-ins (both outcomes) and sign-outs are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Column, ForeignKey, Integer, String, Table, delete, insert, select, update
from sqlalchemy.engine import Connection

from restore.access import Actor
from restore.audit import record
from restore.directory import hash_password, password_matches
from restore.domain import RestoreError
from restore.store import Store, UTCDateTime, metadata, now_utc, sessions, settings, users

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
IDLE_LIMIT = timedelta(hours=8)
TOUCH_EVERY = timedelta(minutes=1)
COOKIE_NAME = "restore_session"
# One message for every failure, so a stranger learns nothing about which names exist.
GENERIC_FAILURE = "Sign-in failed: check your username and password and try again."
NEEDS_COOKIES = "Sign-in needs cookies from this site: allow them, reload the page and try again."
LONG_AGO = timedelta(days=1)  # used or stale tickets older than this are deleted
# Verified against when the username is unknown, so timing does not reveal who exists.
_DUMMY_HASH = hash_password("not a real password")


class SignInFailed(RestoreError):
    """Wrong name, wrong password, inactive or locked account: deliberately indistinguishable."""


def _actor(row) -> Actor:
    return Actor(row.username, row.role, row.branch_id, row.display_name)


def sign_in(store: Store, username: str, password: str, *, now: datetime | None = None) -> Actor:
    """Check a password; count failures, locking the account for 15 minutes after 5 in a row.

    Both outcomes are audited; a failure's entry (with its reason, for HQ IT's eyes only)
    is committed before SignInFailed is raised.
    """
    now = now or now_utc()
    name = (username or "").strip()
    with store.write() as conn:
        row = conn.execute(select(users).where(users.c.username == name)).first()
        failure = _check_password(conn, row, password or "", now)
        if failure is None:
            record(conn, actor=row.username, action="signin.ok", subject=row.username, now=now)
        else:
            _audit_failure(conn, name, failure, now)
    if failure is not None:
        raise SignInFailed(GENERIC_FAILURE)
    return _actor(row)


def _audit_failure(conn: Connection, subject: str, why: dict, now: datetime) -> None:
    record(conn, actor="anonymous", action="signin.failed", subject=subject, details=why, now=now)


def _check_password(conn: Connection, row, password: str, now: datetime) -> dict | None:
    """None if the password is right and the account usable, else why not (for the audit)."""
    if row is None or not row.password_hash:
        password_matches(_DUMMY_HASH, password)
        return {"reason": "unknown user" if row is None else "no password set"}
    locked = row.locked_until is not None and row.locked_until > now
    if password_matches(row.password_hash, password) and not locked and row.active:
        conn.execute(
            update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=None)
        )
        return None
    if locked:
        return {"reason": "account locked", "locked_until": row.locked_until}
    failures = row.failed_logins + 1
    values = {"failed_logins": failures}
    if failures >= MAX_FAILURES:
        values = {"failed_logins": 0, "locked_until": now + LOCKOUT}
    conn.execute(update(users).where(users.c.id == row.id).values(**values))
    why = {"reason": "wrong password" if row.active else "inactive account"}
    return why | ({"locked_until": values["locked_until"]} if "locked_until" in values else {})


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


def _sign(store: Store, message: str) -> str:
    return hmac.new(_secret(store), message.encode(), hashlib.sha256).hexdigest()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_cookie(store: Store) -> tuple[str, str]:
    """(token, cookie value): the database keeps only the token's hash."""
    token = secrets.token_urlsafe(32)
    return token, f"{token}.{_sign(store, token)}"


def _open_session(conn: Connection, user_id: int, token: str, now: datetime) -> None:
    conn.execute(
        insert(sessions).values(
            token_hash=_digest(token), user_id=user_id, created_at=now, last_seen_at=now
        )
    )


def start_session(store: Store, username: str, *, now: datetime | None = None) -> str:
    """Open a session for a signed-in user; returns the cookie value."""
    now = now or now_utc()
    token, cookie = _new_cookie(store)
    with store.write() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()
        _open_session(conn, user_id, token, now)
    return cookie


def resume_session(
    store: Store, cookie: str | None, *, now: datetime | None = None
) -> Actor | None:
    """The user a cookie belongs to, or None if it is forged, revoked or idle for 8 hours.

    The role and branch are re-read from the database every time. A sign-in ticket is
    never a cookie: it is signed for another purpose and lives in another table.
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
    """Sign out: revoke the cookie's session, audited (a no-op for an unknown or ended one)."""
    token, _, _ = (cookie or "").partition(".")
    if not token:
        return
    now = now or now_utc()
    with store.write() as conn:
        row = conn.execute(
            select(sessions.c.id, users.c.username)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == _digest(token), sessions.c.revoked_at.is_(None))
        ).first()
        if row is None:
            return
        conn.execute(update(sessions).where(sessions.c.id == row.id).values(revoked_at=now))
        record(conn, actor=row.username, action="signout", subject=row.username, now=now)


# --- sign-in tickets -----------------------------------------------------------
# A Streamlit page cannot set a cookie, so after a sign-in it sends the browser to
# /api/session?t=TICKET, which trades the ticket for the HttpOnly session cookie. The
# ticket is bound to a random nonce cookie that browser already holds, so a ticket URL
# opened anywhere else (or planted on a victim: login CSRF) signs nobody in.

TICKET_LIFETIME = timedelta(seconds=60)
NONCE_COOKIE = "restore_sign_in_nonce"
_TICKET = "ticket."  # signature purpose: a session token never contains a dot

sign_in_tickets = Table(
    "sign_in_tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("nonce_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)


def issue_ticket(store: Store, username: str, *, nonce: str, now: datetime | None = None) -> str:
    """A one-use ticket, valid for a minute, for the browser holding `nonce` only.

    Raises SignInFailed (writing nothing) without a nonce: that browser refuses cookies.
    """
    if not nonce:
        raise SignInFailed(NEEDS_COOKIES)
    now = now or now_utc()
    token = secrets.token_urlsafe(32)
    with store.write() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()
        conn.execute(delete(sign_in_tickets).where(sign_in_tickets.c.created_at < now - LONG_AGO))
        conn.execute(
            insert(sign_in_tickets).values(
                token_hash=_digest(token),
                user_id=user_id,
                nonce_hash=_digest(nonce),
                created_at=now,
            )
        )
    return f"{token}.{_sign(store, _TICKET + token)}"


def exchange_ticket(
    store: Store, ticket: str | None, nonce: str | None, *, now: datetime | None = None
) -> str | None:
    """Trade a fresh sign-in's ticket for the session cookie, in the browser that signed in.

    Returns None for a forged ticket, one older than a minute or used before, or one
    brought without its browser's nonce; that last case uses the ticket up and is audited.
    """
    now = now or now_utc()
    token, _, signature = (ticket or "").partition(".")
    if not token or not hmac.compare_digest(signature, _sign(store, _TICKET + token)):
        return None
    session_token, cookie = _new_cookie(store)
    with store.write() as conn:
        row = conn.execute(
            select(sign_in_tickets, users.c.username)
            .join(users, users.c.id == sign_in_tickets.c.user_id)
            .where(sign_in_tickets.c.token_hash == _digest(token))
            .where(sign_in_tickets.c.used_at.is_(None))
        ).first()
        if row is None or now - row.created_at > TICKET_LIFETIME:
            return None
        conn.execute(
            update(sign_in_tickets).where(sign_in_tickets.c.id == row.id).values(used_at=now)
        )
        if not hmac.compare_digest(row.nonce_hash, _digest(nonce or "")):
            why = {"reason": "sign-in ticket brought by another browser"}
            _audit_failure(conn, row.username, why, now)
            return None
        _open_session(conn, row.user_id, session_token, now)
    return cookie
