"""Recovery checklists: the items per system type, their ticks and evidence files.

A tick is an append-only event (who, when, note, optional evidence file). An item counts
as done on a branch system when it was ticked during the system's current recovery: after
the last time the system was back in service before its newest outage, so a re-infected
system is checked again. Every write checks permission, validates first, runs in one
transaction with its audit entry, and writes nothing on error.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from restore.access import Action, Actor, require
from restore.audit import actor_name, record
from restore.domain import STATES, Band, text_problem
from restore.records import FUTURE_SLACK, MAX_NOTE, NotFound, ValidationError, find_target
from restore.recovery.evidence import Evidence, check
from restore.recovery.tables import checklist_items, evidence, ticks
from restore.store import PROJECT_ROOT, Store, branch_systems, bump_revision, events, now_utc

DEFAULT_FILE = PROJECT_ROOT / "data" / "checklist.csv"
GATES = ("verifying", "restored")
_IN_SERVICE = tuple(s for s, st in STATES.items() if st.band is Band.IN)


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    gate: str  # verifying: needed before verification; restored: needed before service
    applies_to: tuple[str, ...]  # system keys; empty: every system type

    def applies(self, system: str) -> bool:
        return not self.applies_to or system in self.applies_to


def _item(row) -> Item:
    keys = tuple(k for k in (row.applies_to or "").split(",") if k)
    return Item(row.key, row.title, row.gate, keys)


def items_for(conn: Connection, system: str | None = None) -> list[Item]:
    """The live items, in checklist order; only those applying to `system` when given."""
    rows = conn.execute(
        select(checklist_items)
        .where(checklist_items.c.retired.is_(False))
        .order_by(checklist_items.c.position, checklist_items.c.id)
    ).all()
    found = [_item(r) for r in rows]
    return [i for i in found if system is None or i.applies(system)]


def items(store: Store) -> list[Item]:
    with store.read() as conn:
        return items_for(conn)


# --- what is done -------------------------------------------------------------


def recovery_start(conn: Connection, bs_id: int) -> datetime | None:
    """When the system's current (or latest) recovery began for the checklist: the last
    time it was in service before its newest out-of-service event (None: count every tick)."""
    out = (
        select(func.max(events.c.effective_at))
        .where(events.c.branch_system_id == bs_id, events.c.state.not_in(_IN_SERVICE))
        .scalar_subquery()
    )
    return conn.execute(
        select(func.max(events.c.effective_at)).where(
            events.c.branch_system_id == bs_id,
            events.c.state.in_(_IN_SERVICE),
            events.c.effective_at < out,
        )
    ).scalar()


def done_keys(conn: Connection, bs_id: int) -> set[str]:
    """Items ticked on this branch system during its current recovery."""
    q = select(ticks.c.item_key).where(ticks.c.branch_system_id == bs_id)
    start = recovery_start(conn, bs_id)
    if start is not None:
        q = q.where(ticks.c.at > start)
    return set(conn.execute(q).scalars())


def missing(conn: Connection, bs_id: int, system: str, gate: str) -> list[Item]:
    """Items not yet done that `gate` needs: "verifying" needs the items marked so,
    "restored" needs every item. Empty when the system type has no checklist."""
    wanted = [i for i in items_for(conn, system) if gate == "restored" or i.gate == gate]
    if not wanted:
        return []
    done = done_keys(conn, bs_id)
    return [i for i in wanted if i.key not in done]


def show(store: Store, *, branch: str, system: str) -> list[dict]:
    """A branch system's checklist: key, title, gate, done, and every tick (who, when (ISO
    8601 UTC), note, files with name, sha256, size and id), oldest tick first."""
    with store.read() as conn:
        target = find_target(conn, branch, system)
        done = done_keys(conn, target.id)
        rows = conn.execute(
            select(
                ticks,
                evidence.c.id.label("file_id"),
                evidence.c.name,
                evidence.c.sha256,
                evidence.c.size,
            )
            .outerjoin(evidence, evidence.c.tick_id == ticks.c.id)
            .where(ticks.c.branch_system_id == target.id)
            .order_by(ticks.c.at, ticks.c.id, evidence.c.id)
        ).all()
        listed = items_for(conn, target.system)
    by_item: dict[str, dict[int, dict]] = {}
    for r in rows:
        tick = by_item.setdefault(r.item_key, {}).setdefault(
            r.id, {"who": r.actor, "when": r.at.isoformat(), "note": r.note, "files": []}
        )
        if r.file_id is not None:
            tick["files"].append(
                {"name": r.name, "sha256": r.sha256, "size": r.size, "id": r.file_id}
            )
    return [
        {
            "key": i.key,
            "title": i.title,
            "gate": i.gate,
            "done": i.key in done,
            "ticks": list(by_item.get(i.key, {}).values()),
        }
        for i in listed
    ]


def progress(store: Store) -> dict[str, dict]:
    """Per "branch:system" with a checklist: done and total items, and the keys missing."""
    from restore.store import branches, systems

    with store.read() as conn:
        listed = items_for(conn)
        rows = conn.execute(
            select(branch_systems.c.id, branches.c.slug, systems.c.key)
            .join(branches, branches.c.id == branch_systems.c.branch_id)
            .join(systems, systems.c.id == branch_systems.c.system_id)
        ).all()
        out = {}
        for r in rows:
            mine = [i for i in listed if i.applies(r.key)]
            if not mine:
                continue
            done = done_keys(conn, r.id)
            left = [i.key for i in mine if i.key not in done]
            out[f"{r.slug}:{r.key}"] = {
                "done": len(mine) - len(left),
                "total": len(mine),
                "missing": left,
            }
    return out


# --- ticking ------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """One tick as a page, the CLI or the demo asks for it."""

    branch: str
    system: str
    item: str
    note: str = ""
    file_name: str | None = None
    file_data: bytes | None = None
    at: datetime | None = None  # None: now


def tick(
    store: Store,
    actor: Actor,
    *,
    branch: str,
    system: str,
    item: str,
    note: str = "",
    file_name: str | None = None,
    file_data: bytes | None = None,
    now: datetime | None = None,
) -> int:
    """Tick one item on a branch system (chairs: their own branch; HQ IT: any) and return
    the tick's id. An evidence file (PDF, PNG or text, at most 10 MB, checked by its
    bytes) is stored with its SHA-256. Raises PermissionDenied, NotFound or
    ValidationError naming every problem; then nothing is written."""
    request = Tick(branch, system, item, note, file_name, file_data)
    return tick_many(store, actor, [request], now=now)[0]


def tick_many(
    store: Store, actor: Actor, requests: list[Tick], *, now: datetime | None = None
) -> list[int]:
    """Several ticks in one transaction, all or none (the demo's history uses `at`)."""
    if not requests:
        raise ValidationError("nothing to tick")
    now = now or now_utc()
    files = [
        check(r.file_name or "", r.file_data) if r.file_data is not None else None for r in requests
    ]
    with store.write() as conn:
        known = {i.key: i for i in items_for(conn)}
        targets: dict[tuple[str, str], tuple] = {}  # resolved once per batch
        ids, done = [], []
        for request, file in zip(requests, files, strict=True):
            where = (request.branch, request.system)
            if where not in targets:
                target = find_target(conn, *where)
                targets[where] = (target, f"{_slug(conn, target.branch_id)}:{target.system}")
            tick_id, details = _tick_one(conn, actor, request, file, now, known, targets[where][0])
            ids.append(tick_id)
            done.append({"system": targets[where][1], **details})
        bump_revision(conn)
        # One audit entry per write: the tick itself, or every tick of a batch.
        subjects = sorted({d["system"] for d in done})
        record(
            conn,
            actor=actor_name(actor),
            action="checklist.tick",
            subject=subjects[0] if len(subjects) == 1 else f"{len(done)} ticks",
            details=done[0] if len(done) == 1 else {"ticks": done},
            now=now,
        )
        return ids


def _tick_one(conn, actor, r: Tick, file: Evidence | None, now, known, target) -> tuple[int, dict]:
    """Check and insert one tick (and its file); its id and what the audit entry says."""
    require(actor, Action.TICK_CHECKLIST, branch_id=target.branch_id)
    note = (r.note or "").replace("\r\n", "\n")
    problems = [p for p in (text_problem("note", note),) if p]
    if len(note) > MAX_NOTE:
        problems.append(f"note is {len(note)} characters; the limit is {MAX_NOTE}")
    at = r.at or now
    if at > now + FUTURE_SLACK:
        problems.append("a tick cannot be in the future")
    item = known.get((r.item or "").strip())
    if item is None:
        mine = [i.key for i in known.values() if i.applies(target.system)]
        problems.append(
            f"unknown checklist item {r.item!r}; the items are: {', '.join(mine) or 'none'}"
        )
    elif not item.applies(target.system):
        problems.append(f"item {item.key!r} is not on the {target.system} checklist")
    if problems:
        raise ValidationError("; ".join(problems))
    tick_id = conn.execute(
        insert(ticks).values(
            branch_system_id=target.id, item_key=item.key, actor=actor.username, at=at, note=note
        )
    ).inserted_primary_key[0]
    details: dict = {"item": item.key, "note": note, "at": at}
    if file is not None:
        conn.execute(
            insert(evidence).values(
                tick_id=tick_id,
                name=file.name,
                kind=file.kind,
                size=file.size,
                sha256=file.sha256,
                data=file.data,
            )
        )
        details["file"] = {"name": file.name, "sha256": file.sha256, "size": file.size}
    return tick_id, details


def _slug(conn: Connection, branch_id: int) -> str:
    from restore.store import branches

    return conn.execute(select(branches.c.slug).where(branches.c.id == branch_id)).scalar()


def evidence_file(
    store: Store, actor: Actor, file_id: int, *, now: datetime | None = None
) -> tuple[str, str, bytes, str]:
    """(name, kind, bytes, sha256) of an evidence file, for HQ IT only; the download is
    audited. Raises PermissionDenied or NotFound."""
    require(actor, Action.READ_EVIDENCE)
    with store.write() as conn:
        row = conn.execute(select(evidence).where(evidence.c.id == file_id)).first()
        if row is None:
            raise NotFound(f"no evidence file {file_id}")
        record(
            conn,
            actor=actor_name(actor),
            action="evidence.download",
            subject=row.name,
            details={"id": file_id, "sha256": row.sha256},
            now=now,
        )
    return row.name, row.kind, bytes(row.data), row.sha256


# --- editing the checklist (HQ IT) -----------------------------------------------


def save_item(
    store: Store,
    actor: Actor,
    *,
    key: str,
    title: str,
    gate: str,
    applies_to: list[str] | tuple[str, ...] = (),
    position: int | None = None,
    now: datetime | None = None,
) -> None:
    """Add an item, or change (or bring back) the one with this key. `applies_to` lists
    system keys (empty: every system type). Audited with old and new values."""
    require(actor, Action.EDIT_CHECKLIST)
    with store.write() as conn:
        _save(conn, actor, key, title, gate, applies_to, position, now)


def _save(conn, actor, key, title, gate, applies_to, position, now) -> bool:
    from restore.store import systems

    key, title = (key or "").strip(), " ".join((title or "").split())
    known = set(conn.execute(select(systems.c.key)).scalars())
    problems = [p for p in (text_problem("title", title),) if p]
    if not key or len(key) > 40 or not all(c.isalnum() or c in "-_" for c in key):
        problems.append(f"item key {key!r} must be 1-40 letters, digits, '-' or '_'")
    if not title or len(title) > 300:
        problems.append("an item needs a title of 1-300 characters")
    if gate not in GATES:
        problems.append(f"gate {gate!r} must be one of: {', '.join(GATES)}")
    unknown = sorted(set(applies_to) - known)
    if unknown:
        problems.append(f"unknown system types: {', '.join(unknown)}")
    if problems:
        raise ValidationError("; ".join(problems))
    values = {
        "title": title,
        "gate": gate,
        "applies_to": ",".join(sorted(set(applies_to))),
        "retired": False,
    }
    old = conn.execute(select(checklist_items).where(checklist_items.c.key == key)).first()
    if old is None:
        last = conn.execute(select(func.max(checklist_items.c.position))).scalar() or 0
        values["position"] = position if position is not None else last + 1
        conn.execute(insert(checklist_items).values(key=key, **values))
        change = {"new": values}
    else:
        if position is not None:
            values["position"] = position
        before = {k: getattr(old, k) for k in values}
        if before == values:
            return False
        conn.execute(update(checklist_items).where(checklist_items.c.id == old.id).values(values))
        change = {"old": before, "new": values}
    bump_revision(conn)
    record(
        conn, actor=actor_name(actor), action="checklist.item", subject=key, details=change, now=now
    )
    return True


def retire_item(store: Store, actor: Actor, *, key: str, now: datetime | None = None) -> None:
    """Take an item off the checklist (it gates nothing more; its ticks stay)."""
    require(actor, Action.EDIT_CHECKLIST)
    with store.write() as conn:
        done = conn.execute(
            update(checklist_items)
            .where(checklist_items.c.key == key, checklist_items.c.retired.is_(False))
            .values(retired=True)
        ).rowcount
        if not done:
            raise NotFound(f"no checklist item {key!r} in use")
        bump_revision(conn)
        record(conn, actor=actor_name(actor), action="checklist.retire", subject=key, now=now)


def load_defaults(
    store: Store, actor: Actor, path: Path = DEFAULT_FILE, *, now: datetime | None = None
) -> int:
    """Add the items of a checklist CSV (key,title,gate,applies_to; "all" or system keys
    separated by spaces or ';') whose keys are not there yet; returns how many. Every row
    is checked first; a bad one refuses the file (line-numbered), writing nothing."""
    require(actor, Action.EDIT_CHECKLIST)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    added = 0
    with store.write() as conn:
        have = set(conn.execute(select(checklist_items.c.key)).scalars())
        for line, row in enumerate(rows, start=2):
            scope = (row.get("applies_to") or "all").replace(";", " ").split()
            applies = [] if scope in ([], ["all"]) else scope
            if (row.get("key") or "").strip() in have:
                continue
            try:
                added += _save(
                    conn,
                    actor,
                    row.get("key"),
                    row.get("title"),
                    (row.get("gate") or "").strip(),
                    applies,
                    None,
                    now,
                )
            except ValidationError as e:
                raise ValidationError(f"{path.name} line {line}: {e}") from None
    return added
