"""Send one message to a user's channels with Apprise, and log every attempt.

Each channel gets a short connect and read timeout and a bounded number of tries; the
log row says who, when, which channel (masked) and whether it was delivered. Nothing
here raises for a channel that fails: the caller reads the outcome.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import insert, select

from restore.notify.channels import mask, scrub, urls_of
from restore.notify.tables import delivery_log
from restore.store import Store, now_utc, users

log = logging.getLogger("restore.notify")
# Apprise's DEBUG lines print channel URLs with their paths and tokens: never emit them.
logging.getLogger("apprise").setLevel(logging.WARNING)
CONNECT_TIMEOUT = 3.0  # seconds
READ_TIMEOUT = 5.0
TRIES = 3
BACKOFF = (0.3, 1.0)  # seconds between tries


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: channels tried, and how many took it."""

    username: str
    tried: int
    delivered: int

    @property
    def status(self) -> str:
        if not self.tried:
            return "no channel"
        return "delivered" if self.delivered else "failed"


def _send_one(url: str, title: str, body: str) -> tuple[bool, str]:
    """(delivered, why not) for one channel, trying up to TRIES times."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return False, "not a channel Apprise can send to"
    plugin.socket_connect_timeout = CONNECT_TIMEOUT
    plugin.socket_read_timeout = READ_TIMEOUT
    sender = apprise.Apprise()
    sender.add(plugin)
    why = ""
    for attempt in range(TRIES):
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = sender.notify(body=body, title=title)
        if ok:
            return True, ""
        why = (captured.getvalue().strip().splitlines() or ["the channel did not take it"])[-1]
        if attempt < TRIES - 1:
            time.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
    return False, why


def send_to_urls(
    store: Store,
    username: str,
    urls: list[str],
    *,
    title: str,
    body: str,
    purpose: str,
    branch: str | None = None,
) -> Outcome:
    """Send to each URL (not inside any transaction: sending can take seconds), then log
    one row per channel. Never raises for a failed channel."""
    rows = []
    for url in urls:
        try:
            ok, why = _send_one(url, title, body)
        except Exception as e:  # a plugin bug must not stop the other channels
            ok, why = False, f"{type(e).__name__}: {e}"
        detail = scrub(why, [url])[:500]
        if not ok:
            log.warning("notification to %s via %s failed: %s", username, mask(url), detail)
        rows.append(
            {"at": now_utc(), "username": username, "channel": mask(url), "purpose": purpose,
             "branch": branch, "outcome": "delivered" if ok else "failed", "detail": detail}
        )  # fmt: skip
    if rows:
        with store.write() as conn:
            conn.execute(insert(delivery_log), rows)
    return Outcome(username, len(rows), sum(r["outcome"] == "delivered" for r in rows))


def send(
    store: Store,
    user_id: int,
    *,
    title: str,
    body: str,
    purpose: str,
    branch: str | None = None,
) -> Outcome:
    """Send one message to every channel of a user; returns the outcome."""
    with store.read() as conn:
        username = conn.execute(select(users.c.username).where(users.c.id == user_id)).scalar_one()
        urls = urls_of(conn, user_id)
    return send_to_urls(
        store, username, urls, title=title, body=body, purpose=purpose, branch=branch
    )


def delivery_frame(store: Store, limit: int | None = 500):
    """The delivery log, newest first (channels masked), as a DataFrame."""
    import pandas as pd

    q = select(delivery_log).order_by(delivery_log.c.id.desc()).limit(limit)
    with store.read() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=list(delivery_log.c.keys()))
