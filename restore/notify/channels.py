"""Each user's Apprise channels (https://appriseit.com): add, remove, list, always masked.

A channel is one Apprise URL, such as `json://host/path`, `signal://...` or an SMS
gateway's. Its secrets (tokens, passwords, phone numbers in the path) never leave
this module unmasked: pages, CSV, logs and the audit trail see `mask(url)` only.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from restore.access import Action, Actor, require
from restore.audit import actor_name, record
from restore.domain import text_problem
from restore.notify.tables import user_channels
from restore.records import NotFound, ValidationError
from restore.store import Store, now_utc, users

MAX_URL = 2000
MASK = "…"
# Schemes whose host part is a real server name (its path and credentials are secret);
# for every other scheme the "host" is itself a token, so only the scheme is shown.
HOST_SCHEMES = frozenset(
    {
        "json", "jsons", "xml", "xmls", "form", "forms", "signal", "signals", "smseagle",
        "smseagles", "mailto", "mailtos", "ntfy", "ntfys", "gotify", "gotifys", "matrix",
        "matrixs", "mmost", "mmosts", "rocket", "rockets", "workflow", "workflows", "apprise",
        "apprises", "nctalk", "nctalks",
    }
)  # fmt: skip


def mask(url: str) -> str:
    """`json://127.0.0.1:8080/…` or `tgram://…`: the scheme, and the host where it is one.

    Never raises: anything unparsable is shown as `…`.
    """
    try:
        parts = urlsplit((url or "").strip())
        scheme = parts.scheme.lower()
        if not scheme:
            return MASK
        if scheme in HOST_SCHEMES and parts.hostname:
            host = parts.hostname + (f":{parts.port}" if parts.port else "")
            return f"{scheme}://{host}/{MASK}"
        return f"{scheme}://{MASK}"
    except ValueError:
        return MASK


def scrub(text: str, urls: list[str]) -> str:
    """`text` with every secret-looking piece of `urls` (credentials, path, query) masked."""
    out = text or ""
    for url in urls:
        out = out.replace(url, mask(url))
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        pieces = [parts.username, parts.password, parts.query, *parts.path.split("/")]
        if parts.scheme.lower() not in HOST_SCHEMES:
            pieces.append(parts.hostname)
        for piece in sorted({p for p in pieces if p and len(p) >= 4}, key=len, reverse=True):
            out = out.replace(piece, MASK)
    return out


def check_url(url: str) -> str:
    """The URL, trimmed, if Apprise can send to it; else ValidationError (message masked)."""
    import apprise  # imported here: most of Restore never sends anything

    url = (url or "").strip()
    problem = text_problem("channel", url)
    if problem:
        raise ValidationError(problem)
    if not url or len(url) > MAX_URL:
        raise ValidationError(f"a channel is an Apprise URL of 1-{MAX_URL} characters")
    if apprise.Apprise.instantiate(url) is None:
        raise ValidationError(
            f"{mask(url)} is not a channel Apprise can send to: check the URL against "
            "https://appriseit.com (e.g. json://host/path, signal://host/+from/+to)"
        )
    return url


def user_row(conn: Connection, username: str):
    row = conn.execute(select(users).where(users.c.username == (username or "").strip())).first()
    if row is None:
        raise NotFound(f"unknown user {username!r}")
    return row


def add_channels(conn: Connection, actor: Actor, user, urls: list[str], now: datetime) -> list[str]:
    """Inside a caller's transaction: add checked URLs to `user` (a users row); returns masks.

    The URLs must have passed check_url. A URL the user already has is refused.
    """
    have = set(
        conn.execute(
            select(user_channels.c.url).where(user_channels.c.user_id == user.id)
        ).scalars()
    )
    masks = []
    for url in urls:
        if url in have:
            raise ValidationError(f"{user.username} already has the channel {mask(url)}")
        have.add(url)
        masks.append(mask(url))
        conn.execute(
            insert(user_channels).values(
                user_id=user.id, url=url, masked=mask(url), added_at=now,
                added_by=actor_name(actor),
            )
        )  # fmt: skip
    return masks


def add_channel(
    store: Store, actor: Actor, *, username: str, url: str, now: datetime | None = None
) -> str:
    """Give a user one more channel (HQ IT); returns it masked.

    Raises PermissionDenied, NotFound or ValidationError, writing nothing.
    """
    require(actor, Action.MANAGE)
    url = check_url(url)
    now = now or now_utc()
    with store.write() as conn:
        user = user_row(conn, username)
        (shown,) = add_channels(conn, actor, user, [url], now)
        record(conn, actor=actor_name(actor), action="notify.channel.add",
               subject=user.username, details={"channel": shown}, now=now)  # fmt: skip
    return shown


def remove_channel(
    store: Store,
    actor: Actor,
    *,
    username: str,
    url: str | None = None,
    channel_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """Take a channel away, named by its URL or its id (pages know only ids); returns it
    masked. Raises PermissionDenied, NotFound, writing nothing."""
    require(actor, Action.MANAGE)
    now = now or now_utc()
    with store.write() as conn:
        user = user_row(conn, username)
        q = select(user_channels).where(user_channels.c.user_id == user.id)
        if channel_id is not None:
            q = q.where(user_channels.c.id == channel_id)
        else:
            q = q.where(user_channels.c.url == (url or "").strip())
        row = conn.execute(q).first()
        if row is None:
            raise NotFound(f"{user.username} has no such channel")
        conn.execute(delete(user_channels).where(user_channels.c.id == row.id))
        record(conn, actor=actor_name(actor), action="notify.channel.remove",
               subject=user.username, details={"channel": row.masked}, now=now)  # fmt: skip
    return row.masked


def channel_list(store: Store, username: str) -> list[tuple[int, str]]:
    """A user's channels as (id, masked URL), oldest first."""
    with store.read() as conn:
        user = user_row(conn, username)
        rows = conn.execute(
            select(user_channels.c.id, user_channels.c.masked)
            .where(user_channels.c.user_id == user.id)
            .order_by(user_channels.c.id)
        )
        return [(r.id, r.masked) for r in rows]


def urls_of(conn: Connection, user_id: int) -> list[str]:
    """A user's channel URLs, unmasked, for sending only."""
    q = select(user_channels.c.url).where(user_channels.c.user_id == user_id)
    return list(conn.execute(q.order_by(user_channels.c.id)).scalars())
