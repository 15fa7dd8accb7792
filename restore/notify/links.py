"""Signed single-use links: invite (choose a password), reset (choose a new one) and
checkin (one tap: nothing has changed), each for one user (and branch), until it expires.

A link carries `token.signature`: a random token, signed with the deployment's key so a
made-up one is refused before any lookup; the database keeps only the token's SHA-256.
Every link is formed from RESTORE_BASE_URL, the address people open Restore at.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from restore.auth import _sign
from restore.domain import RestoreError
from restore.notify.tables import links
from restore.store import Store, branches, users

LIFETIME = {
    "invite": timedelta(hours=72),
    "reset": timedelta(hours=24),
    "checkin": timedelta(hours=24),
}
PARAM = {"invite": "invite", "reset": "invite", "checkin": "checkin"}  # ?invite=... on "/"


class NoBaseUrl(RestoreError):
    """RESTORE_BASE_URL is missing or not an http(s) address: no link can be formed."""


class LinkRefused(RestoreError):
    """The link is unknown, altered, used, replaced or expired. Nothing was written."""


def base_url() -> str:
    """RESTORE_BASE_URL without a trailing slash; NoBaseUrl if it is missing or odd."""
    base = (os.environ.get("RESTORE_BASE_URL") or "").strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NoBaseUrl(
            "RESTORE_BASE_URL is not set (or is not an http(s) address): set it to the address "
            "people open Restore at, e.g. https://restore.example.org, so that links in "
            "invitations and reminders lead there; nothing was sent"
        )
    return base


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signature(store: Store, purpose: str, token: str) -> str:
    return _sign(store, f"link.{PARAM[purpose]}.{token}")[:24]


@dataclass(frozen=True)
class Link:
    id: int
    purpose: str
    user_id: int
    username: str
    display_name: str
    branch_id: int | None
    branch_slug: str | None
    branch_name: str | None
    expires_at: datetime


def new_token(store: Store, purpose: str) -> tuple[str, str]:
    """(token, signed value) for a new link; call it before opening the write transaction
    (the signing key may be created on first use, in a transaction of its own)."""
    base_url()
    token = secrets.token_urlsafe(18)
    return token, f"{token}.{_signature(store, purpose, token)}"


def issue(
    conn: Connection,
    *,
    token: tuple[str, str],
    purpose: str,
    user_id: int,
    branch_id: int | None,
    by: str,
    now: datetime,
) -> tuple[int, str]:
    """Inside the caller's transaction: store a new_token() link; returns (link id, its
    full address). An earlier unused invite or reset link of the same user stops working
    (only the newest one does). Raises NoBaseUrl, writing nothing.
    """
    base = base_url()
    raw, value = token
    if purpose in ("invite", "reset"):
        conn.execute(
            update(links)
            .where(links.c.user_id == user_id, links.c.purpose.in_(("invite", "reset")))
            .where(links.c.used_at.is_(None), links.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    link_id = conn.execute(
        insert(links).values(
            token_hash=_digest(raw), purpose=purpose, user_id=user_id, branch_id=branch_id,
            created_at=now, expires_at=now + LIFETIME[purpose], created_by=by,
        )
    ).inserted_primary_key[0]  # fmt: skip
    return link_id, f"{base}/?{PARAM[purpose]}={quote(value)}"


REFUSED = {
    "unknown": "This link is not valid: it may have been copied wrongly.",
    "used": "This link has already been used, so it cannot be used again.",
    "replaced": "A newer link replaced this one: use the newest message you were sent.",
    "expired": "This link has expired.",
    "inactive": "The account this link was for can no longer sign in.",
}


def checked(store: Store, value: str | None, purposes: tuple[str, ...]) -> str:
    """The token of a link value whose signature is right for one of `purposes`; call it
    before opening a transaction. LinkRefused for a made-up or altered value."""
    token, _, signature = (value or "").strip().partition(".")
    valid = token and any(
        hmac.compare_digest(signature, _signature(store, p, token)) for p in purposes
    )
    if not valid:
        raise LinkRefused(REFUSED["unknown"])
    return token


def find(
    conn: Connection, token: str, purposes: tuple[str, ...], now: datetime, *, lock: bool = False
) -> Link:
    """The live link of a checked() token, for one of `purposes`; LinkRefused says why not."""
    q = (
        select(links, users.c.username, users.c.display_name, users.c.active,
               branches.c.slug, branches.c.name.label("branch_name"))
        .join(users, users.c.id == links.c.user_id)
        .outerjoin(branches, branches.c.id == links.c.branch_id)
        .where(links.c.token_hash == _digest(token), links.c.purpose.in_(purposes))
    )  # fmt: skip
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update(of=links)
    row = conn.execute(q).first()
    if row is None:
        raise LinkRefused(REFUSED["unknown"])
    if row.used_at is not None:
        raise LinkRefused(REFUSED["used"])
    if row.revoked_at is not None:
        raise LinkRefused(REFUSED["replaced"])
    if now >= row.expires_at:
        raise LinkRefused(REFUSED["expired"])
    if not row.active:
        raise LinkRefused(REFUSED["inactive"])
    return Link(
        row.id, row.purpose, row.user_id, row.username, row.display_name, row.branch_id,
        row.slug, row.branch_name, row.expires_at,
    )  # fmt: skip


def use(conn: Connection, link_id: int, now: datetime) -> None:
    """Mark a link used (inside the transaction that acts on it): it never works again."""
    done = conn.execute(
        update(links).where(links.c.id == link_id, links.c.used_at.is_(None)).values(used_at=now)
    ).rowcount
    if done != 1:
        raise LinkRefused(REFUSED["used"])
