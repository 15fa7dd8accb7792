"""Dependencies between branch systems: what each waits on, cycles refused, who is blocked,
the critical path and what the forecast should warn of.

A system is blocked by every system it depends on, directly or through others, that is
out of service now (outage, contained or recovering; a system never reported blocks
nothing). Keys are "branch-slug:system-key", e.g. "hq:email".
"""

from __future__ import annotations

import csv
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import and_, delete, insert, select
from sqlalchemy.engine import Connection

from restore.access import Action, Actor, require
from restore.audit import actor_name, record
from restore.domain import Band, band_of, label_of
from restore.records import NotFound, ValidationError, find_target
from restore.recovery.tables import dependencies
from restore.store import (
    PROJECT_ROOT,
    Store,
    branch_systems,
    branches,
    bump_revision,
    events,
    now_utc,
    systems,
)

DEFAULT_FILE = PROJECT_ROOT / "data" / "depends.csv"


class CycleError(ValidationError):
    """The dependency would make a system wait, through others, on itself."""


def split_key(text: str) -> tuple[str, str]:
    """ "BRANCH:SYSTEM" -> (branch, system); ValidationError if it is not that shape."""
    branch, sep, system = (text or "").strip().rpartition(":")
    if not sep or not branch.strip() or not system.strip():
        raise ValidationError(f"{text!r} must be BRANCH:SYSTEM, e.g. hq:email")
    return branch.strip(), system.strip()


def _names(conn: Connection, ids: set[int] | None = None) -> dict[int, str]:
    q = (
        select(branch_systems.c.id, branches.c.slug, systems.c.key)
        .join(branches, branches.c.id == branch_systems.c.branch_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
    )
    if ids is not None:
        q = q.where(branch_systems.c.id.in_(sorted(ids)))
    rows = conn.execute(q).all()
    return {r.id: f"{r.slug}:{r.key}" for r in rows}


def _edges(conn: Connection) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for a, b in conn.execute(select(dependencies.c.branch_system_id, dependencies.c.on_id)):
        out.setdefault(a, set()).add(b)
    return out


def _path(edges: dict[int, set[int]], start: int, goal: int) -> list[int] | None:
    """A shortest path start -> ... -> goal along dependencies, or None."""
    parent: dict[int, int | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            return path[::-1]
        for nxt in sorted(edges.get(node, ())):
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return None


def _add(
    conn: Connection, actor: Actor, branch: str, system: str, on: str, now, known=None
) -> bool:
    """Add one dependency inside a transaction; False if it was there already. `known`
    is (names, edges) read once for a batch, kept up to date here; a batch (given `known`)
    writes its own audit entry."""
    who = find_target(conn, branch, system)
    on_branch, on_system = split_key(on)
    what = find_target(conn, on_branch, on_system)
    names, edges = known or (_names(conn), _edges(conn))
    if who.id == what.id:
        raise CycleError(f"{names[who.id]} cannot depend on itself")
    if what.id in edges.get(who.id, set()):
        return False
    back = _path(edges, what.id, who.id)
    if back is not None:
        cycle = " -> ".join(names[n] for n in [who.id, *back])
        raise CycleError(f"refused: that dependency would make a cycle: {cycle}")
    conn.execute(
        insert(dependencies).values(
            branch_system_id=who.id, on_id=what.id, added_by=actor.username, added_at=now
        )
    )
    record(
        conn,
        actor=actor_name(actor),
        action="depends.add",
        subject=names[who.id],
        details={"on": names[what.id]},
        now=now,
    )
    return True


def add(
    store: Store, actor: Actor, *, branch: str, system: str, on: str, now: datetime | None = None
) -> bool:
    """HQ IT declares that branch's system waits on `on` ("BRANCH:SYSTEM"). Returns False
    when it was declared already. Raises CycleError naming the cycle, NotFound or
    PermissionDenied, writing nothing."""
    require(actor, Action.MANAGE_DEPENDENCIES)
    now = now or now_utc()
    with store.write() as conn:
        done = _add(conn, actor, branch, system, on, now)
        if done:
            bump_revision(conn)
        return done


def remove(
    store: Store, actor: Actor, *, branch: str, system: str, on: str, now: datetime | None = None
) -> None:
    """Remove a declared dependency (audited). Raises NotFound if there is none."""
    require(actor, Action.MANAGE_DEPENDENCIES)
    with store.write() as conn:
        who = find_target(conn, branch, system)
        what = find_target(conn, *split_key(on))
        gone = conn.execute(
            delete(dependencies).where(
                and_(dependencies.c.branch_system_id == who.id, dependencies.c.on_id == what.id)
            )
        ).rowcount
        names = _names(conn)
        if not gone:
            raise NotFound(f"{names[who.id]} does not depend on {names[what.id]}")
        bump_revision(conn)
        record(
            conn,
            actor=actor_name(actor),
            action="depends.remove",
            subject=names[who.id],
            details={"on": names[what.id]},
            now=now,
        )


def listing(store: Store) -> list[dict]:
    """Every declared dependency: system, on (keys), who declared it and when."""
    with store.read() as conn:
        names = _names(conn)
        rows = conn.execute(select(dependencies).order_by(dependencies.c.id)).all()
    out = [
        {
            "system": names[r.branch_system_id],
            "on": names[r.on_id],
            "added_by": r.added_by,
            "added_at": r.added_at.isoformat(),
        }
        for r in rows
    ]
    return sorted(out, key=lambda d: (d["system"], d["on"]))


def load_defaults(
    store: Store, actor: Actor, path: Path = DEFAULT_FILE, *, now: datetime | None = None
) -> int:
    """Add the dependencies of a CSV (branch,system,on; branch "*" means every branch but
    HQ) that are not declared yet; returns how many. All or none."""
    require(actor, Action.MANAGE_DEPENDENCIES)
    now = now or now_utc()
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    added = 0
    with store.write() as conn:
        slugs = list(
            conn.execute(
                select(branches.c.slug).where(branches.c.is_hq.is_(False)).order_by(branches.c.id)
            ).scalars()
        )
        known = (_names(conn), _edges(conn))
        before = {(a, b) for a, bs in known[1].items() for b in bs}
        for line, row in enumerate(rows, start=2):
            chosen = slugs if row.get("branch", "").strip() == "*" else [row.get("branch", "")]
            try:
                for slug in chosen:
                    added += _add(
                        conn, actor, slug, row.get("system", ""), row.get("on", ""), now, known
                    )
            except ValidationError as e:
                raise ValidationError(f"{path.name} line {line}: {e}") from None
        if added:
            bump_revision(conn)
            names = known[0]
            new = sorted(
                f"{names[a]} on {names[b]}"
                for a, bs in known[1].items()
                for b in bs
                if (a, b) not in before
            )
            record(
                conn,
                actor=actor_name(actor),
                action="depends.defaults",
                subject=path.name,
                details={"added": new},
                now=now,
            )
    return added


# --- who is blocked ---------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    key: str
    branch: str
    system: str
    state: str | None
    eta: date | None

    @property
    def out(self) -> bool:
        return self.state is not None and band_of(self.state) is not Band.IN

    def describe(self) -> str:
        """ "Headquarters · Email (Rebuilding / restoring from backup)"."""
        state = label_of(self.state) if self.state else "not reported"
        return f"{self.branch} · {self.system} ({state})"


def _nodes(board: pd.DataFrame, only: set[str] | None = None) -> dict[str, Node]:
    """The board's rows as Nodes by "slug:system" key; `only` some keys (a national board
    has 100,000 rows, a dependency graph a few dozen)."""
    if only is not None:
        board = board[(board["slug"] + ":" + board["system"]).isin(only)]
    out = {}
    for r in board[["branch", "slug", "system", "system_name", "state", "eta"]].itertuples():
        key = f"{r.slug}:{r.system}"
        state = r.state if isinstance(r.state, str) else None
        eta = r.eta if isinstance(r.eta, date) else None
        out[key] = Node(key, r.branch, r.system_name, state, eta)
    return out


def _graph(store: Store) -> dict[str, set[str]]:
    with store.read() as conn:
        edges = _edges(conn)
        names = _names(conn, set(edges) | {b for bs in edges.values() for b in bs})
        return {names[a]: {names[b] for b in bs} for a, bs in edges.items()}


def _reach(graph: dict[str, set[str]], start: str) -> list[str]:
    """Everything `start` depends on, directly or through others, nearest first."""
    seen, order, queue = {start}, [], deque([start])
    while queue:
        for nxt in sorted(graph.get(queue.popleft(), ())):
            if nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
                queue.append(nxt)
    return order


def _board(store: Store, board: pd.DataFrame | None) -> pd.DataFrame:
    if board is not None:
        return board
    from restore import queries

    return queries.board(store)


def blocked_by(store: Store, board: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """For every branch system on `board` (default: the live board), the "branch:system"
    keys it waits on that are out of service, through any number of levels; [] if none."""
    nodes = _nodes(_board(store, board))
    graph = _graph(store)
    out = {key: [] for key in nodes}
    for key in graph:
        if key in out:
            out[key] = [k for k in _reach(graph, key) if k in nodes and nodes[k].out]
    return out


def blockers(store: Store, board: pd.DataFrame | None = None) -> dict[str, list[Node]]:
    """Like blocked_by, with each blocker's names, state and expected date (only the
    blocked systems are listed), for "blocked by Headquarters · Email (Rebuilding ...)"."""
    nodes = _nodes(_board(store, board))
    return {
        key: [nodes[k] for k in found] for key, found in blocked_by(store, board).items() if found
    }


def critical_path(store: Store, board: pd.DataFrame | None = None) -> list[Node]:
    """The chain of blocked systems with the latest expected date, the first blocker first
    and the system that waits longest last; [] when nothing is blocked. A chain's date is
    the latest expected date on it; an undated chain comes before any dated one, and among
    equals the longer chain wins."""
    graph = _graph(store)
    nodes = _nodes(_board(store, board), set(graph) | {k for ks in graph.values() for k in ks})
    best: tuple = ()
    best_chain: list[str] = []

    def walk(chain: list[str]) -> None:
        nonlocal best, best_chain
        nxt = [k for k in sorted(graph.get(chain[-1], ())) if k in nodes and nodes[k].out]
        nxt = [k for k in nxt if k not in chain]
        if not nxt and len(chain) > 1:
            dates = [nodes[k].eta for k in chain if nodes[k].eta]
            score = (max(dates) if dates else date.min, len(chain))
            if score > best:
                best, best_chain = score, list(chain)
        for k in nxt:
            walk([*chain, k])

    for key in sorted(graph):
        if key in nodes and nodes[key].out:
            walk([key])
    return [nodes[k] for k in reversed(best_chain)]


def forecast_notes(
    store: Store, forecast: date | None, board: pd.DataFrame | None = None
) -> list[str]:
    """A sentence per blocker whose expected date is later than `forecast` (the forecast
    of full restoration): the forecast cannot hold while systems wait on it."""
    if forecast is None:
        return []
    waiting: dict[str, list[str]] = {}
    found = blockers(store, board)
    for key, nodes in found.items():
        for node in nodes:
            waiting.setdefault(node.key, []).append(key)
    nodes = {n.key: n for ns in found.values() for n in ns}
    out = []
    for key in sorted(waiting, key=lambda k: (nodes[k].eta or date.max, k)):
        node = nodes[key]
        if node.eta and node.eta > forecast:
            n = len(waiting[key])
            out.append(
                f"{node.describe()} is expected back on {node.eta:%-d %b %Y}, after the "
                f"forecast of {forecast:%-d %b %Y}; {n} system{'s' if n != 1 else ''} "
                f"wait{'' if n != 1 else 's'} on it"
            )
    return out


def waiting_on(conn: Connection, bs_id: int) -> list[str]:
    """What `bs_id` waits on that is out of service now (names and states), for the gate:
    read inside the writer's transaction."""
    seen, frontier = {bs_id}, [bs_id]
    while frontier:
        rows = conn.execute(
            select(dependencies.c.on_id).where(dependencies.c.branch_system_id.in_(frontier))
        ).scalars()
        frontier = [n for n in set(rows) if n not in seen]
        seen.update(frontier)
    seen.discard(bs_id)
    if not seen:
        return []
    rows = conn.execute(
        select(branches.c.slug, systems.c.key, events.c.state)
        .select_from(branch_systems)
        .join(branches, branches.c.id == branch_systems.c.branch_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
        .join(events, events.c.id == branch_systems.c.last_event_id)
        .where(branch_systems.c.id.in_(sorted(seen)))
    ).all()
    out = [
        f"{r.slug}:{r.key} ({label_of(r.state)})" for r in rows if band_of(r.state) is not Band.IN
    ]
    return sorted(out)
