"""The event log in and out: CSV import (all rows or none) and CSV/JSON export.

`import_csv` accepts what `export_rows` writes, so export -> init -> seed ->
import into an empty database reproduces the same board.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.engine import Connection

from restore import audit, csv_safe
from restore import store as tables
from restore.access import Action, Actor, require
from restore.bounds import backdate_floor
from restore.domain import RestoreError
from restore.records import (
    Change,
    Target,
    ValidationError,
    advance,
    append,
    find_target,
    incident_id,
    load_last,
    validate,
)
from restore.store import (
    Store,
    branch_systems,
    branches,
    events,
    incidents,
    now_utc,
    systems,
)
from restore.timefmt import TimeFormatError, iso, parse_date, parse_time

REQUIRED = ("branch", "system", "state")
OPTIONAL = (
    "at", "note", "eta", "who", "source", "reason", "recorded_at", "incident", "external",
)  # fmt: skip
TRUE = ("yes", "true", "1", "y")
EXPORT_ONLY = ("event_id", "entered_by")
EXPORT_COLUMNS = (
    "event_id", "branch", "system", "state", "at", "note", "eta",
    "who", "source", "reason", "recorded_at", "incident", "entered_by",
)  # fmt: skip


def _check_reporter(rec: dict[str, str], users: set[str]) -> str | None:
    """A problem with a row's `who`: it must be a user, or a row marked external."""
    who = rec.get("who", "").strip()
    external = rec.get("external", "").strip().lower() in TRUE
    if external and not who:
        return "an external row needs who (the reporter's name)"
    if external and who in users:
        return f"{who!r} is a Restore user: leave external empty"
    if who and not external and who not in users:
        return (
            f"who {who!r} is not a Restore user; mark the row external=yes for a reporter "
            "outside Restore"
        )
    return None


class ImportRefused(ValidationError):
    """The CSV had problems; `errors` lists each with its line number. Nothing was written."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        super().__init__(
            f"import refused, nothing written ({len(errors)} problems):\n" + "\n".join(shown)
        )


@dataclass(frozen=True)
class Row:
    line: int
    branch: str
    system: str
    change: Change | None  # None when the row's own fields did not parse
    incident: str | None = None
    record: dict = field(default_factory=dict)  # the row's cells by column

    def with_source(self, source: str) -> Row:
        return replace(self, change=replace(self.change, source=source))


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        bad = f"byte 0x{data[e.start]:02x}"
        raise ImportRefused(
            [f"line {line}: the file is not UTF-8 text ({bad}); save it as UTF-8"]
        ) from None


def _parse_change(rec: dict[str, str], now) -> Change:
    at = rec.get("at", "").strip()
    eta = rec.get("eta", "").strip()
    recorded = rec.get("recorded_at", "").strip()
    return Change(
        state=rec["state"].strip().lower(),
        at=parse_time(at) if at else now,
        note=rec.get("note", "").replace("\r\n", "\n"),
        eta=parse_date(eta) if eta else None,
        reason=rec.get("reason", "").strip() or None,
        source=rec.get("source", "").strip() or "import",
        actor=rec.get("who", "").strip() or None,
        recorded_at=parse_time(recorded) if recorded else None,
        imported=True,
    )


def parse_csv(text: str, now) -> tuple[list[Row], list[str]]:
    """Rows and line-numbered problems in a status CSV (header line is line 1)."""
    if not text.strip():
        return [], [
            f"line 1: the file is empty; expected a header: {','.join(REQUIRED + OPTIONAL[:3])}"
        ]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader)]
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL + EXPORT_ONLY]
    missing = [h for h in REQUIRED if h not in header]
    if unknown or missing or len(set(header)) != len(header):
        said = []
        if missing:
            said.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            said.append(f"unknown column(s) {', '.join(unknown)}")
        if len(set(header)) != len(header):
            said.append("a column appears twice")
        allowed = ",".join(REQUIRED + OPTIONAL)
        return [], [f"line 1: wrong header ({'; '.join(said)}); expected columns: {allowed}"]
    rows, errors, line = [], [], reader.line_num + 1
    try:
        _read_rows(reader, header, rows, errors, line, now)
    except csv.Error as e:
        errors.append(f"line {reader.line_num}: the CSV cannot be read ({e})")
    if not rows and not errors:
        errors.append("line 2: no rows to import after the header")
    return rows, errors


def _read_rows(reader, header, rows, errors, line, now) -> None:
    for values in reader:
        start, line = line, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            errors.append(f"line {start}: {len(values)} values for {len(header)} columns")
            continue
        rec = dict(zip(header, values, strict=True))
        try:
            change = _parse_change(rec, now)
        except TimeFormatError as e:
            errors.append(f"line {start}: {e}")
            change = None
        rows.append(
            Row(start, rec["branch"], rec["system"], change, rec.get("incident") or None, rec)
        )


def _name_key(row: Row) -> tuple[str, str]:
    return row.branch.strip().lower(), row.system.strip().lower()


def _targets(conn: Connection, rows: list[Row], errors: list[str]) -> dict[tuple, Target]:
    """Resolve names once; rows naming one system by name and by slug share one Target."""
    found: dict[tuple, Target] = {}
    by_id: dict[int, Target] = {}
    for row in rows:
        if _name_key(row) in found:
            continue
        try:
            target = find_target(conn, row.branch, row.system)
        except RestoreError as e:
            errors.append(f"line {row.line}: {e}")
            continue
        found[_name_key(row)] = by_id.setdefault(target.id, target)
    return found


def import_csv(
    store: Store,
    actor: Actor,
    data: bytes,
    *,
    now=None,
    dry_run: bool = False,
    keep_source: bool = False,
) -> int:
    """Validate every row, then append them all in one transaction; returns the count.

    Rows apply in file order, each against the state the rows before it left. A row's
    `who` is kept as the reporter (the importer is kept as who entered it) and must be a
    user, unless the row says external=yes. Every row's source is `import`, unless
    `keep_source` (the demo's story, which replays web and phone reports).
    Raises ImportRefused listing every bad row by line number; writes nothing then.
    With dry_run, validates the same way and writes nothing (for previews).
    """
    require(actor, Action.IMPORT)
    now = now or now_utc()
    rows, errors = parse_csv(decode(data), now)
    with store.write() as conn:
        targets = _targets(conn, rows, errors)
        unique = {t.id: t for t in targets.values()}
        store.lock_branch_systems(conn, list(unique))
        for target in unique.values():
            load_last(conn, target)
        users = set(conn.execute(select(tables.users.c.username)).scalars())
        for row in rows:
            if problem := _check_reporter(row.record, users):
                errors.append(f"line {row.line}: {problem}")
        if not keep_source:
            rows = [r if r.change is None else r.with_source("import") for r in rows]
        batch = _validate_rows(conn, actor, rows, targets, errors, now)
        if errors:
            raise ImportRefused(sorted(errors, key=lambda e: int(e.split(":")[0][5:])))
        if not dry_run:
            append(conn, batch)
    return len(batch)


def _validate_rows(conn, actor, rows, targets, errors, now) -> list:
    """Validate rows in order against in-memory targets that advance as rows pass."""
    batch, floor = [], backdate_floor(conn, now)
    for row in rows:
        target = targets.get(_name_key(row))
        if target is None or row.change is None:
            continue
        change = replace(row.change, incident=row.incident)
        try:
            event = validate(actor, target, change, now, floor=floor)
            event["incident_id"] = incident_id(conn, target, change)
        except RestoreError as e:
            errors.append(f"line {row.line}: {e}")
            continue
        advance(target, event)
        batch.append((target, event))
    return batch


# --- export ------------------------------------------------------------------


def export_rows(store: Store, actor: Actor) -> list[dict]:
    """The whole event log in id order, one dict per event, every column."""
    require(actor, Action.EXPORT)
    q = (
        select(
            events.c.id.label("event_id"),
            branches.c.slug.label("branch"),
            systems.c.key.label("system"),
            events.c.state,
            events.c.effective_at.label("at"),
            events.c.note,
            events.c.eta,
            events.c.actor.label("who"),
            events.c.source,
            events.c.override_reason.label("reason"),
            events.c.recorded_at,
            incidents.c.name.label("incident"),
            events.c.entered_by,
        )
        .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
        .join(branches, branches.c.id == branch_systems.c.branch_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
        .outerjoin(incidents, incidents.c.id == events.c.incident_id)
        .order_by(events.c.id)
    )
    with store.read() as conn:
        out = []
        for r in conn.execute(q).mappings():
            d = dict(r)
            d["at"], d["recorded_at"] = iso(d["at"]), iso(d["recorded_at"])
            d["eta"] = d["eta"].isoformat() if d["eta"] else ""
            d["reason"], d["incident"] = d["reason"] or "", d["incident"] or ""
            out.append(d)
    with store.write() as conn:  # who took the whole log away, and when
        audit.record(conn, actor=audit.actor_name(actor), action="export", subject="events",
                     details={"rows": len(out)})  # fmt: skip
    return out


def to_csv(rows: list[dict], *, raw: bool = False) -> str:
    """The export as CSV: spreadsheet-safe (see csv_safe), or the exact text with `raw`,
    which `import` reads back unchanged."""
    return csv_safe.rows_to_csv(rows, list(EXPORT_COLUMNS), raw=raw)


def to_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=1)
