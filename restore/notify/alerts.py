"""Alerts: people who asked are told when a system changes state.

A subscription is one kind, for one branch or every branch:
  all       every change of state (a check-in, the same state again, never alerts)
  restored  a system is restored
  lost      a system that was in service goes out of service again
  overdue   a system's expected date passes while it is still out (checked by
            `python -m restore alerts send`, or `remind`, from cron)

After a write commits, `queue_events` (called by restore.records through
restore.notify.after_commit) adds one queued alert per subscriber and event, and wakes a
background thread that sends them, so a slow or dead channel never delays or fails the
write. A subscriber's alerts are held until the oldest is a minute old and then go as
one message: a burst of changes is one message, not twenty.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from restore import queries
from restore.access import Action, Actor, require
from restore.audit import actor_name, record
from restore.domain import Band, band_of, label_of
from restore.notify import delivery
from restore.notify.channels import user_row
from restore.notify.tables import alert_queue, subscriptions
from restore.records import ValidationError, find_branch
from restore.store import Store, branch_systems, branches, events, now_utc, systems, users
from restore.timefmt import show

log = logging.getLogger("restore.notify")
KINDS = {
    "all": "every change of state",
    "restored": "a system is restored",
    "lost": "a system back in service goes down again",
    "overdue": "an expected date passes",
}
GROUP_WINDOW = timedelta(minutes=1)


# --- subscriptions -------------------------------------------------------------


def subscribe(
    store: Store,
    actor: Actor,
    *,
    username: str,
    kinds: list[str],
    branch: str | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Set which alerts a user gets for `branch` (None: every branch); [] stops them.

    Replaces the user's earlier choice for that scope. Raises PermissionDenied, NotFound
    or ValidationError, writing nothing.
    """
    require(actor, Action.MANAGE)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValidationError(
            f"unknown alert kind(s) {', '.join(unknown)}; kinds are: {', '.join(KINDS)}"
        )
    kinds = sorted(set(kinds))
    now = now or now_utc()
    with store.write() as conn:
        user = user_row(conn, username)
        branch_id = find_branch(conn, branch)["id"] if branch else None
        scope = (
            subscriptions.c.branch_id.is_(None)
            if branch_id is None
            else (subscriptions.c.branch_id == branch_id)
        )
        conn.execute(delete(subscriptions).where(subscriptions.c.user_id == user.id, scope))
        if kinds:
            conn.execute(
                insert(subscriptions),
                [{"user_id": user.id, "kind": k, "branch_id": branch_id} for k in kinds],
            )
        record(conn, actor=actor_name(actor), action="notify.subscribe", subject=user.username,
               details={"kinds": kinds, "branch": branch or "every branch"}, now=now)  # fmt: skip
    return kinds


def subscription_frame(store: Store):
    """Every subscription: username, kind, branch (empty: every branch)."""
    import pandas as pd

    q = (
        select(users.c.username, subscriptions.c.kind, branches.c.slug.label("branch"))
        .join(users, users.c.id == subscriptions.c.user_id)
        .outerjoin(branches, branches.c.id == subscriptions.c.branch_id)
        .order_by(users.c.username, subscriptions.c.kind)
    )
    with store.read() as conn:
        rows = conn.execute(q).all()
    return pd.DataFrame(rows, columns=["username", "kind", "branch"]).fillna("")


# --- queueing ------------------------------------------------------------------


def kinds_of(previous: str | None, state: str) -> set[str]:
    """Which subscriptions a move from `previous` to `state` concerns (none: a check-in)."""
    if previous == state:
        return set()
    out = {"all"}
    if state == "restored":
        out.add("restored")
    if previous is not None and band_of(previous) is Band.IN and band_of(state) is not Band.IN:
        out.add("lost")
    return out


def _previous_state(conn: Connection, e) -> str | None:
    q = (
        select(events.c.state)
        .where(events.c.branch_system_id == e.branch_system_id, events.c.id != e.id)
        .where(
            (events.c.effective_at < e.effective_at)
            | ((events.c.effective_at == e.effective_at) & (events.c.id < e.id))
        )
        .order_by(events.c.effective_at.desc(), events.c.id.desc())
        .limit(1)
    )
    return conn.execute(q).scalar()


def _subscribers(conn: Connection) -> list:
    q = (
        select(subscriptions.c.user_id, subscriptions.c.kind, subscriptions.c.branch_id)
        .join(users, users.c.id == subscriptions.c.user_id)
        .where(users.c.active.is_(True))
    )
    return conn.execute(q).all()


def queue_events(store: Store, event_ids: list[int]) -> int:
    """Queue alerts for committed events; returns how many. Cheap when nobody subscribes."""
    if not event_ids:
        return 0
    with store.read() as conn:
        subs = _subscribers(conn)
        if not subs:
            return 0
        rows = conn.execute(
            select(events, branches.c.slug, branches.c.name.label("branch_name"),
                   branches.c.id.label("branch_id"), systems.c.name.label("system_name"))
            .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
            .join(branches, branches.c.id == branch_systems.c.branch_id)
            .join(systems, systems.c.id == branch_systems.c.system_id)
            .where(events.c.id.in_(event_ids))
            .order_by(events.c.id)
        ).all()  # fmt: skip
        items = []
        for e in rows:
            previous = _previous_state(conn, e)
            kinds = kinds_of(previous, e.state)
            if not kinds:
                continue
            was = label_of(previous) if previous else "not reported"
            line = (
                f"{e.branch_name}, {e.system_name}: {was} -> {label_of(e.state)} "
                f"({show(e.effective_at)}, by {e.actor})"
            )
            users_for = {
                s.user_id for s in subs
                if s.kind in kinds and s.branch_id in (None, e.branch_id)
            }  # fmt: skip
            items += [
                {"user_id": u, "key": f"event:{e.id}", "kind": "change", "branch": e.slug,
                 "text": line, "created_at": e.recorded_at}
                for u in sorted(users_for)
            ]  # fmt: skip
    return _insert_new(store, items)


def _insert_new(store: Store, items: list[dict]) -> int:
    """Insert queued alerts not already queued (same user and key); returns how many."""
    if not items:
        return 0
    with store.write() as conn:
        have = set(
            conn.execute(
                select(alert_queue.c.user_id, alert_queue.c.key).where(
                    alert_queue.c.key.in_({i["key"] for i in items})
                )
            ).all()
        )
        new = [i for i in items if (i["user_id"], i["key"]) not in have]
        if new:
            conn.execute(insert(alert_queue), new)
    return len(new)


def queue_overdue(store: Store, now: datetime) -> int:
    """Queue one alert per overdue subscriber per system and passed expected date."""
    with store.read() as conn:
        subs = [s for s in _subscribers(conn) if s.kind == "overdue"]
        ids = dict(conn.execute(select(branches.c.slug, branches.c.id)).all())
    if not subs:
        return 0
    over = queries.overdue(queries.board(store), now)
    items = []
    for r in over.itertuples():
        line = (
            f"{r.branch}, {r.system_name}: expected back {r.eta:%d %b %Y}, now "
            f"{r.days_overdue} day(s) overdue ({label_of(r.state)})"
        )
        for s in subs:
            if s.branch_id in (None, ids.get(r.slug)):
                items.append(
                    {"user_id": s.user_id, "key": f"overdue:{r.slug}:{r.system}:{r.eta}",
                     "kind": "overdue", "branch": r.slug, "text": line, "created_at": now}
                )  # fmt: skip
    return _insert_new(store, items)


# --- sending -------------------------------------------------------------------


def _due_users(conn: Connection, now: datetime) -> list[int]:
    q = (
        select(alert_queue.c.user_id)
        .where(alert_queue.c.sent_at.is_(None))
        .group_by(alert_queue.c.user_id)
        .having(func.min(alert_queue.c.created_at) <= now - GROUP_WINDOW)
    )
    return list(conn.execute(q).scalars())


def send_due(store: Store, *, now: datetime | None = None) -> int:
    """Send every subscriber whose oldest queued alert is a minute old everything queued
    for them, as one message; returns how many messages were sent (or tried)."""
    now = now or now_utc()
    with store.read() as conn:
        due = _due_users(conn, now)
    sent = 0
    for user_id in due:
        with store.write() as conn:  # claim: a rival sender gets none of these
            claimed = conn.execute(
                update(alert_queue)
                .where(alert_queue.c.user_id == user_id, alert_queue.c.sent_at.is_(None))
                .values(sent_at=now)
                .returning(alert_queue.c.id, alert_queue.c.text, alert_queue.c.branch)
            ).all()
        if not claimed:
            continue
        claimed.sort(key=lambda r: r.id)
        n = len(claimed)
        title = "Restore: 1 change" if n == 1 else f"Restore: {n} changes"
        body = "\n".join(r.text for r in claimed)
        branch = claimed[0].branch if len({r.branch for r in claimed}) == 1 else None
        outcome = delivery.send(store, user_id, title=title, body=body, purpose="alert",
                                branch=branch)  # fmt: skip
        with store.write() as conn:
            conn.execute(
                update(alert_queue)
                .where(alert_queue.c.id.in_([r.id for r in claimed]))
                .values(outcome=outcome.status)
            )
        sent += 1
    return sent


def next_due(store: Store) -> datetime | None:
    """When the oldest queued alert falls due (None: nothing queued)."""
    with store.read() as conn:
        oldest = conn.execute(
            select(func.min(alert_queue.c.created_at)).where(alert_queue.c.sent_at.is_(None))
        ).scalar()
    if oldest is None:
        return None
    if isinstance(oldest, str):  # SQLite returns an aggregate of times as text
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return oldest + GROUP_WINDOW


# --- the background sender -----------------------------------------------------

_lock = threading.Lock()
_senders: dict[str, tuple[threading.Thread, threading.Event]] = {}


def background_enabled() -> bool:
    """RESTORE_ALERTS_BACKGROUND=0 leaves queued alerts to `python -m restore alerts send`."""
    return os.environ.get("RESTORE_ALERTS_BACKGROUND", "1") != "0"


def kick(store: Store) -> None:
    """Make sure this process has a sender thread for the store, and wake it."""
    if not background_enabled():
        return
    key = str(store.engine.url)
    with _lock:
        found = _senders.get(key)
        if found and found[0].is_alive():
            found[1].set()
            return
        wake = threading.Event()
        thread = threading.Thread(
            target=_run, args=(store, key, wake), name="restore-alerts", daemon=True
        )
        _senders[key] = (thread, wake)
        thread.start()


def _run(store: Store, key: str, wake: threading.Event) -> None:
    """Send what is due, sleep until the next alert falls due (or a new one arrives); stop
    when nothing is queued. Logs, never raises."""
    try:
        while True:
            send_due(store)
            due = next_due(store)
            if due is None:
                with _lock:
                    if not wake.is_set():
                        _senders.pop(key, None)
                        return
                    wake.clear()
                continue
            wait = max(0.05, min(60.0, (due - now_utc()).total_seconds()))
            wake.wait(wait)
            wake.clear()
    except Exception:
        log.exception("alert sender stopped; queued alerts wait for the next write or cron")
        with _lock:
            _senders.pop(key, None)


def wait_idle(timeout: float = 30.0) -> bool:
    """Wait for every sender thread of this process to finish (for tests and the CLI)."""
    with _lock:
        threads = [t for t, _ in _senders.values()]
    for thread in threads:
        thread.join(timeout)
    return not any(t.is_alive() for t in threads)
