"""Reminders: each quiet or never-reported branch's chair gets a one-tap check-in link.

`remind` finds the branches Follow-up lists as quiet or never reported, and sends each
active chair of each a link that records "Nothing has changed" for that branch only,
once, within 24 hours. A chair reminded (delivered) less than 12 hours ago is skipped,
so an hourly cron sends nothing twice. Every reminder is kept: Follow-up's "last chased".
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import func, insert, select, text, update

from restore import queries
from restore.access import Action, Actor, require
from restore.audit import actor_name, record
from restore.directory import actor_for
from restore.domain import label_of
from restore.notify import delivery
from restore.notify.channels import urls_of
from restore.notify.links import Link, LinkRefused, base_url, checked, find, issue, new_token, use
from restore.notify.tables import links, reminders
from restore.records import DuplicateSubmission, check_in_branch
from restore.store import Store, branches, now_utc, users
from restore.timefmt import show

QUIET_AGAIN = timedelta(hours=12)  # no second reminder to the same chair within this
_PG_LOCK = 0x52455354_52454D44  # "RESTREMD": one reminder run at a time


@dataclass(frozen=True)
class Reminder:
    """One chair of one branch, and what a run did about them."""

    branch: str
    slug: str
    chair: str  # username ("" when the branch has no chair)
    quiet: str  # why the branch is chased, in words
    outcome: str  # would send | delivered | failed | no channel | reminded recently | no chair
    url: str = ""


def _quiet(r) -> str:
    if pd.isna(r.last_update):
        return "has never reported"
    if r.never_reported:
        return f"has {r.never_reported} system(s) never reported"
    return f"has not reported for {r.hours_quiet:.0f} hours"


def _chairs(conn) -> dict[int, list]:
    q = select(users.c.id, users.c.username, users.c.display_name, users.c.branch_id).where(
        users.c.role == "chair", users.c.active.is_(True)
    )
    out: dict[int, list] = {}
    for r in conn.execute(q.order_by(users.c.username)):
        out.setdefault(r.branch_id, []).append(r)
    return out


def _recent(conn, now: datetime) -> set[tuple[int, int]]:
    """(branch id, user id) pairs reminded, or being reminded, in the last 12 hours."""
    q = select(reminders.c.branch_id, reminders.c.user_id).where(
        reminders.c.at > now - QUIET_AGAIN, reminders.c.outcome.in_(("delivered", "sending"))
    )
    return {tuple(r) for r in conn.execute(q)}


def _message(name: str, branch: str, quiet: str, url: str) -> tuple[str, str]:
    title = f"Restore: {branch}, any change?"
    body = (
        f"Hello {name}. {branch} {quiet} in Restore. If nothing has changed, open this link "
        f'and tap "Nothing has changed" (it works once, for 24 hours): {url}\n'
        'If something changed, open it and choose "Something changed" to sign in and record it.'
    )
    return title, body


def remind(
    store: Store, actor: Actor, *, dry_run: bool = False, now: datetime | None = None
) -> list[Reminder]:
    """Send every quiet or never-reported branch's chairs a one-tap check-in link.

    `dry_run` says who would be reminded and writes and sends nothing. Raises
    PermissionDenied or NoBaseUrl (before anything is written or sent); failed
    deliveries are reported in the result and the delivery log, never raised.
    """
    require(actor, Action.MANAGE)
    base_url()
    now = now or now_utc()
    new_token(store, "checkin")  # the signing key exists before the transaction
    stale = queries.stale(queries.board(store), now)
    out: list[Reminder] = []
    plan: list[tuple[int, int, dict]] = []  # (index in out, reminder row id, who)
    with store.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        ids = dict(conn.execute(select(branches.c.slug, branches.c.id)).all())
        chairs, recent = _chairs(conn), _recent(conn, now)
        for r in stale.itertuples():
            branch_id, quiet = ids[r.slug], _quiet(r)
            if not chairs.get(branch_id):
                out.append(Reminder(r.branch, r.slug, "", quiet, "no chair"))
            for chair in chairs.get(branch_id, []):
                said = Reminder(r.branch, r.slug, chair.username, quiet, "")
                urls = urls_of(conn, chair.id)
                if (branch_id, chair.id) in recent:
                    out.append(replace(said, outcome="reminded recently"))
                elif dry_run:
                    out.append(replace(said, outcome="would send" if urls else "no channel"))
                else:
                    row_id, url = _start(conn, store, actor, chair, branch_id, urls, now)
                    out.append(replace(said, outcome="sending" if urls else "no channel", url=url))
                    plan.append((len(out) - 1, row_id, {"urls": urls, "name": chair.display_name}))
        if plan:
            details = {"chairs": len(plan), "branches": len({out[i].slug for i, _, _ in plan})}
            record(conn, actor=actor_name(actor), action="notify.remind", subject="reminders",
                   details=details, now=now)  # fmt: skip
    if dry_run:
        return out
    results = _send_all(store, [(i, out[i], row_id, who) for i, row_id, who in plan])
    return [replace(r, outcome=results.get(i, r.outcome)) for i, r in enumerate(out)]


def _start(conn, store: Store, actor: Actor, chair, branch_id: int, urls: list[str], now):
    """Keep one reminder (and, when there is a channel to send it to, its link); returns
    (reminder row id, link address or "")."""
    link_id, url = None, ""
    if urls:
        link_id, url = issue(conn, token=new_token(store, "checkin"), purpose="checkin",
                             user_id=chair.id, branch_id=branch_id, by=actor_name(actor),
                             now=now)  # fmt: skip
    row_id = conn.execute(
        insert(reminders).values(
            at=now, branch_id=branch_id, user_id=chair.id, link_id=link_id,
            outcome="sending" if urls else "no channel", sent_by=actor_name(actor),
        )
    ).inserted_primary_key[0]  # fmt: skip
    return row_id, url


def _send_all(store: Store, plan: list) -> dict[int, str]:
    """Send every planned reminder (a few at a time: one slow channel delays no other);
    returns {index in the run's list: outcome}, each also kept on its reminder row."""
    jobs = [job for job in plan if job[3]["urls"]]

    def one(job) -> tuple[int, str]:
        i, reminder, row_id, who = job
        title, body = _message(who["name"], reminder.branch, reminder.quiet, reminder.url)
        sent = delivery.send_to_urls(store, reminder.chair, who["urls"], title=title, body=body,
                                     purpose="reminder", branch=reminder.slug)  # fmt: skip
        with store.write() as conn:
            conn.execute(
                update(reminders).where(reminders.c.id == row_id).values(outcome=sent.status)
            )
        return i, sent.status

    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(jobs))) as pool:
        return dict(pool.map(one, jobs))


def last_chased(store: Store) -> pd.DataFrame:
    """Each branch's newest reminder: slug, branch, when (UTC), to whom, what became of it,
    and when its link was used to check in (NaT: not yet)."""
    newest = (
        select(reminders.c.branch_id, func.max(reminders.c.id).label("id"))
        .group_by(reminders.c.branch_id)
        .subquery()
    )
    q = (
        select(branches.c.slug, branches.c.name, reminders.c.at, users.c.username,
               reminders.c.outcome, links.c.used_at)
        .join(newest, newest.c.id == reminders.c.id)
        .join(branches, branches.c.id == reminders.c.branch_id)
        .join(users, users.c.id == reminders.c.user_id)
        .outerjoin(links, links.c.id == reminders.c.link_id)
        .order_by(reminders.c.at.desc(), branches.c.name)
    )  # fmt: skip
    with store.read() as conn:
        rows = conn.execute(q).all()
    return pd.DataFrame(rows, columns=["slug", "branch", "at", "chair", "outcome", "answered"])


def chased_words(frame: pd.DataFrame) -> dict[str, str]:
    """slug -> 'dd Mon HH:MM, reminder delivered to chair.kent' for pages and CSV."""
    return {r.slug: f"{show(r.at)}, reminder {r.outcome} to {r.chair}" for r in frame.itertuples()}


def chase_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Follow-up's "Reminders" table: each branch's newest reminder and whether it was
    answered with the one-tap link."""
    return pd.DataFrame(
        {
            "Branch": frame["branch"].to_list(),
            "slug": frame["slug"].to_list(),
            "Last chased": [show(t) for t in frame["at"]],
            "Chair": frame["chair"].to_list(),
            "Reminder": frame["outcome"].to_list(),
            "Checked in by link": [
                show(t) if t is not None and pd.notna(t) else "not yet" for t in frame["answered"]
            ],
        }
    )


# --- the one-tap link ----------------------------------------------------------


@dataclass(frozen=True)
class CheckinView:
    link: Link
    systems: pd.DataFrame  # System, State, Since (words), for the page


def checkin_view(store: Store, value: str | None, *, now: datetime | None = None) -> CheckinView:
    """What a check-in link's page shows: the branch's systems. LinkRefused says why not."""
    now = now or now_utc()
    token = checked(store, value, ("checkin",))
    with store.read() as conn:
        link = find(conn, token, ("checkin",), now)
    board = queries.board(store)
    mine = board[board["slug"] == link.branch_slug]
    frame = pd.DataFrame(
        {
            "System": mine["system_name"].to_list(),
            "State": [label_of(s) if isinstance(s, str) else "Not reported" for s in mine["state"]],
            "Since": [show(t) if pd.notna(t) else "" for t in mine["since"]],
        }
    )
    return CheckinView(link, frame)


def check_in_by_link(store: Store, value: str | None, *, now: datetime | None = None) -> list[int]:
    """Nothing has changed, by link: a check-in for the link's branch (source `link`),
    recorded as its chair, once; returns the event ids.

    Raises LinkRefused (unknown, used, expired), PermissionDenied (the chair has moved to
    another branch) or ValidationError (nothing is out of service), writing nothing.
    """
    now = now or now_utc()
    token = checked(store, value, ("checkin",))
    with store.read() as conn:
        link = find(conn, token, ("checkin",), now)
    chair = actor_for(store, link.username)
    try:
        ids = check_in_branch(store, chair, branch=link.branch_slug, source="link",
                              submission=f"link:{link.id}", now=now)  # fmt: skip
    except DuplicateSubmission as e:  # a second tap raced the first
        raise LinkRefused("This link has already been used, so it cannot be used again.") from e
    with store.write() as conn:
        use(conn, link.id, now)
        record(conn, actor=link.username, action="notify.checkin_link",
               subject=link.branch_slug or "", details={"events": len(ids)}, now=now)  # fmt: skip
    return ids


__all__ = ["LinkRefused", "Reminder", "check_in_by_link", "checkin_view", "last_chased", "remind"]
