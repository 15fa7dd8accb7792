"""Invitations and password resets: a single-use link to a "choose your password" page,
shown to HQ IT to read out or sent to the user's channels.

An invitation lasts 72 hours, a reset 24; a newer one replaces any earlier unused one.
Issuing is audited (never the link itself); so is choosing the password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from restore.access import Action, Actor, require
from restore.audit import actor_name, record
from restore.directory import MIN_PASSWORD, hash_password
from restore.domain import text_problem
from restore.notify import delivery
from restore.notify.channels import urls_of, user_row
from restore.notify.links import LIFETIME, Link, checked, find, issue, new_token, use
from restore.readmodels.versions import USERS, bump
from restore.records import ValidationError
from restore.store import Store, now_utc, sessions, users

PURPOSES = ("invite", "reset")


@dataclass(frozen=True)
class Invitation:
    username: str
    purpose: str  # invite | reset
    url: str
    expires_at: datetime
    sent: delivery.Outcome | None = None  # None: not sent, to be read out

    def message(self) -> str:
        """For HQ IT: what was done, in one line."""
        what = "Invitation" if self.purpose == "invite" else "Password reset link"
        if self.sent is None:
            return f"{what} for {self.username}: read this link out or copy it; it works once."
        if self.sent.status == "delivered":
            return f"{what} sent to {self.username} ({self.sent.delivered} channel(s))."
        return f"{what} for {self.username} could not be delivered: read the link out instead."


def _text(name: str, purpose: str, username: str, url: str) -> tuple[str, str]:
    hours = int(LIFETIME[purpose].total_seconds() // 3600)
    if purpose == "invite":
        title = "Restore: choose your password"
        first = f"HQ IT has set up your Restore account ({username})."
    else:
        title = "Restore: choose a new password"
        first = f"Here is the password reset you asked HQ IT for ({username})."
    body = (
        f"Hello {name}. {first} Open this link within {hours} hours to choose your "
        f"password: {url}\nIt works once. If you did not expect this, tell HQ IT."
    )
    return title, body


def invite(
    store: Store,
    actor: Actor,
    *,
    username: str,
    purpose: str = "invite",
    send: bool = False,
    now: datetime | None = None,
) -> Invitation:
    """A new invite (or reset) link for a user; sent to their channels if `send`.

    Raises PermissionDenied, NoBaseUrl, NotFound or ValidationError (an inactive user; an
    invite for someone who already has a password; `send` to a user without a channel),
    writing nothing. A failed delivery is reported in the result, not raised.
    """
    require(actor, Action.MANAGE)
    if purpose not in PURPOSES:
        raise ValidationError(f"unknown link purpose {purpose!r}")
    token = new_token(store, purpose)  # refuses first without RESTORE_BASE_URL
    now = now or now_utc()
    with store.write() as conn:
        user = user_row(conn, username)
        if not user.active:
            raise ValidationError(f"{user.username} cannot sign in (deactivated): reactivate first")
        if purpose == "invite" and user.password_hash:
            raise ValidationError(
                f"{user.username} already has a password: send a password reset instead"
            )
        urls = urls_of(conn, user.id)
        if send and not urls:
            raise ValidationError(
                f"{user.username} has no notification channel: add one, or read the link out"
            )
        _, url = issue(conn, token=token, purpose=purpose, user_id=user.id, branch_id=None,
                       by=actor_name(actor), now=now)  # fmt: skip
        expires = now + LIFETIME[purpose]
        record(conn, actor=actor_name(actor), action=f"notify.{purpose}", subject=user.username,
               details={"expires_at": expires, "send": send}, now=now)  # fmt: skip
    sent = None
    if send:
        title, body = _text(user.display_name, purpose, user.username, url)
        sent = delivery.send_to_urls(
            store, user.username, urls, title=title, body=body, purpose=purpose
        )
    return Invitation(user.username, purpose, url, expires, sent)


def has_password(store: Store, username: str) -> bool:
    """Whether the user has chosen a password (Admin offers "Reset password", else "Invite")."""
    with store.read() as conn:
        return bool(user_row(conn, username).password_hash)


def link_view(store: Store, value: str | None, *, now: datetime | None = None) -> Link:
    """Who an invite or reset link is for; LinkRefused says why it no longer works."""
    token = checked(store, value, PURPOSES)
    with store.read() as conn:
        return find(conn, token, PURPOSES, now or now_utc())


def choose_password(
    store: Store,
    value: str | None,
    password: str,
    *,
    again: str | None = None,
    now: datetime | None = None,
) -> str:
    """Set the password of the link's user and use the link up; returns the username.

    The password is checked first (a bad one leaves the link usable). Signs the user out
    everywhere and lifts any lock. Raises LinkRefused or ValidationError, writing nothing.
    """
    problems = [p for p in (text_problem("password", password),) if p]
    if len(password or "") < MIN_PASSWORD:
        problems.append(f"the password must be at least {MIN_PASSWORD} characters")
    if again is not None and again != password:
        problems.append("the two passwords differ: type the same one twice")
    if problems:
        raise ValidationError("; ".join(problems))
    now = now or now_utc()
    token = checked(store, value, PURPOSES)
    with store.write() as conn:
        link = find(conn, token, PURPOSES, now, lock=True)
        use(conn, link.id, now)
        conn.execute(
            update(users)
            .where(users.c.id == link.user_id)
            .values(password_hash=hash_password(password), failed_logins=0, locked_until=None)
        )
        conn.execute(
            update(sessions)
            .where(sessions.c.user_id == link.user_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        bump(conn, {USERS})
        record(conn, actor=link.username, action="user.password.link", subject=link.username,
               details={"purpose": link.purpose}, now=now)  # fmt: skip
    return link.username
