"""The event log in and out: CSV import (all rows or none) and CSV/JSON export.

`import_csv` accepts what `export_rows` writes, so export -> init -> seed ->
import into an empty database reproduces the same board. An import streams: it reads
the file a line at a time and validates and appends a chunk of rows at a time, all in
one transaction, so a file of millions of rows takes no more memory than a few thousand.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import BinaryIO, TextIO

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
    load_last_many,
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
# Rows are validated and appended this many at a time, all in one transaction: memory
# stays flat however long the file.
CHUNK_ROWS = 5_000
# Problems kept word for word; past this an import only counts them ("... and N more").
MAX_PROBLEMS = 200
# Names that matched nothing, remembered so that a repeated bad name is looked up once.
MAX_UNKNOWN_NAMES = 10_000
# The longest line read (the csv module already limits a field to 131,072 characters).
MAX_LINE = 1 << 20
# Systems locked and read per statement: SQLite takes at most 32,766 parameters in one
# (PostgreSQL gets the list as one array, restore.bindlists).
LOCK_BATCH = 10_000
ENCODING = "utf-8-sig"  # UTF-8, with or without the byte order mark Excel writes

# What import_csv reads: the file's bytes (an upload), its text, a path, or a binary stream.
Source = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO


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
    """The CSV had problems; `errors` lists each with its line number (the first
    MAX_PROBLEMS, then one "... and N more" line); `total` counts them all. Nothing was
    written."""

    def __init__(self, errors: list[str], *, more: int = 0):
        self.total = len(errors) + more
        self.errors = errors + ([f"... and {more} more problems"] if more else [])
        hidden = self.total - 20
        shown = errors[:20] + ([f"... and {hidden} more"] if hidden > 0 else [])
        super().__init__(
            f"import refused, nothing written ({self.total} problems):\n" + "\n".join(shown)
        )


class _Problems:
    """Line-numbered problems in file order: the first MAX_PROBLEMS kept, the rest counted."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.more = 0

    def __bool__(self) -> bool:
        return bool(self.kept)

    def add(self, found: list[str]) -> None:
        """Add one chunk's problems (every line of a chunk comes after the last chunk's)."""
        for problem in sorted(found, key=_line_of):
            if len(self.kept) < MAX_PROBLEMS:
                self.kept.append(problem)
            else:
                self.more += 1

    def refuse(self) -> ImportRefused:
        return ImportRefused(self.kept, more=self.more)


def _line_of(problem: str) -> int:
    return int(problem.split(":")[0][5:])


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
    """The text of a small UTF-8 upload; ImportRefused naming the line of a bad byte."""
    try:
        return data.decode(ENCODING)
    except UnicodeDecodeError:
        raise ImportRefused([_undecodable(io.BytesIO(data))]) from None


def _undecodable(raw: BinaryIO) -> str:
    """The problem with a stream that is not UTF-8, naming the line of the first bad byte
    (read again a block at a time: the streaming reader cannot say which line it was on)."""
    decoder = codecs.getincrementaldecoder(ENCODING)()
    line = 1
    try:
        while block := raw.read(1 << 16):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as e:
                # e.object is this block, after at most a few undecoded bytes of the last
                # (never a newline), so the newlines before e.start are this block's.
                line += e.object[: e.start].count(b"\n")
                bad = e.object[e.start]
                break
            line += block.count(b"\n")
        else:
            decoder.decode(b"", final=True)
            return "line 1: the file could not be read as text"  # not reached for UTF-8
    except UnicodeDecodeError as e:  # the file ends inside a character
        bad = e.object[e.start]
    return f"line {line}: the file is not UTF-8 text (byte 0x{bad:02x}); save it as UTF-8"


def _opener(source: Source) -> Callable[[], AbstractContextManager[TextIO]]:
    """A function that opens the source afresh, each time from the same place, as a text
    stream read incrementally; a decoding error surfaces as ImportRefused naming the line
    of the bad byte."""
    if isinstance(source, str):
        return lambda: nullcontext(io.StringIO(source, newline=""))
    if isinstance(source, bytes | bytearray | memoryview):
        raw = lambda: io.BytesIO(source)  # noqa: E731
    elif isinstance(source, os.PathLike):
        raw = lambda: open(source, "rb")  # noqa: E731, SIM115
    else:  # a binary stream: read from where it stood when the import began, each time
        start = source.tell()

        def raw():
            source.seek(start)
            return _Unclosed(source)

    @contextmanager
    def opened() -> Iterator[TextIO]:
        with raw() as binary:
            text = io.TextIOWrapper(binary, encoding=ENCODING, newline="")
            try:
                yield text
            except UnicodeDecodeError:
                with raw() as again:
                    raise ImportRefused([_undecodable(again)]) from None
            finally:
                text.detach()

    return opened


class _Unclosed(io.BufferedIOBase):
    """A caller's binary stream, read through but left open."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._raw.read(size)

    def read1(self, size: int = -1) -> bytes:
        return self._raw.read(size)


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


def _records(stream: TextIO, problem: Callable[[str], None]) -> Iterator[tuple[int, dict]]:
    """(line, cells by column) for each data row of a status CSV, one at a time.

    The header is line 1. A wrong or missing header raises ImportRefused at once; a row
    with the wrong number of values, and a file the csv module cannot read further, are
    passed to `problem` (and reading stops at the latter)."""
    reader = csv.reader(_lines(stream))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            if all(not any(v.strip() for v in values) for values in reader):
                expected = ",".join(REQUIRED + OPTIONAL[:3])
                raise ImportRefused([f"line 1: the file is empty; expected a header: {expected}"])
            header = header or []
    except csv.Error as e:
        raise ImportRefused([f"line {reader.line_num}: the CSV cannot be read ({e})"]) from None
    except _LineTooLong as e:
        raise ImportRefused([str(e)]) from None
    header = [h.strip().lower() for h in header]
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
        raise ImportRefused(
            [f"line 1: wrong header ({'; '.join(said)}); expected columns: {allowed}"]
        )
    line = reader.line_num + 1
    try:
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problem(f"line {start}: {len(values)} values for {len(header)} columns")
                continue
            yield start, dict(zip(header, values, strict=True))
    except csv.Error as e:
        problem(f"line {reader.line_num}: the CSV cannot be read ({e})")
    except _LineTooLong as e:
        problem(str(e))


class _LineTooLong(Exception):
    pass


def _lines(stream: TextIO) -> Iterator[str]:
    """The stream's lines, refusing one longer than MAX_LINE characters (a file with no line
    ends would otherwise be read whole)."""
    number = 0
    while line := stream.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE:
            raise _LineTooLong(
                f"line {number}: longer than {MAX_LINE:,} characters; is this a CSV file?"
            )
        yield line


def _row(line: int, rec: dict, now, problems: list[str]) -> Row:
    try:
        change = _parse_change(rec, now)
    except TimeFormatError as e:
        problems.append(f"line {line}: {e}")
        change = None
    return Row(line, rec["branch"], rec["system"], change, rec.get("incident") or None, rec)


def parse_csv(text: str, now) -> tuple[list[Row], list[str]]:
    """Rows and line-numbered problems in a status CSV (header line is line 1), all in
    memory: for an upload's preview. import_csv streams instead."""
    rows: list[Row] = []
    errors: list[str] = []
    try:
        for line, rec in _records(io.StringIO(text, newline=""), errors.append):
            rows.append(_row(line, rec, now, errors))
    except ImportRefused as e:
        return [], e.errors
    if not rows and not errors:
        errors.append("line 2: no rows to import after the header")
    return rows, sorted(errors, key=_line_of)


def _name_key(row: Row) -> tuple[str, str]:
    return row.branch.strip().lower(), row.system.strip().lower()


class _Targets:
    """The branch systems a file names, resolved once (rows naming one system by name and
    by slug share one Target, whose state advances as its rows pass, chunk after chunk).
    Bounded: at most one Target per branch system, and MAX_UNKNOWN_NAMES remembered misses.

    Until `lock()`, names resolve through an index of every branch and branch system (two
    queries, not two per name); after it, a system not met before is refused.
    """

    def __init__(self, conn: Connection) -> None:
        self.found: dict[tuple[str, str], Target] = {}
        self.by_id: dict[int, Target] = {}
        self.unknown: dict[tuple[str, str], str] = {}
        self.branch_ids: dict[str, int] | None = {}  # by lower-case name and slug
        names = {}
        for b in conn.execute(select(branches.c.id, branches.c.name, branches.c.slug)):
            names[b.id] = b.name
            self.branch_ids |= {b.name.lower(): b.id, b.slug.lower(): b.id}
        q = select(
            branch_systems.c.id, branch_systems.c.branch_id, branch_systems.c.since, systems.c.key
        ).join(systems, systems.c.id == branch_systems.c.system_id)
        self.by_branch: dict[tuple[int, str], tuple] | None = {
            (r.branch_id, r.key.lower()): (r.id, r.branch_id, names[r.branch_id], r.key, r.since)
            for r in conn.execute(q)
        }

    def resolve(self, conn: Connection, branch: str, system: str) -> Target | str:
        """The Target the names give, or the problem with them."""
        key = branch.strip().lower(), system.strip().lower()
        if (hit := self.found.get(key) or self.unknown.get(key)) is not None:
            return hit
        if self.branch_ids is not None:
            branch_id = self.branch_ids.get(key[0])
            if (fields := self.by_branch.get((branch_id, key[1]))) is not None:
                target = self.by_id.setdefault(fields[0], Target(*fields))
                self.found[key] = target
                return target
        try:  # find_target says exactly what is wrong with the names
            target = find_target(conn, branch, system)
        except RestoreError as e:
            if len(self.unknown) < MAX_UNKNOWN_NAMES:
                self.unknown[key] = str(e)
            return str(e)
        if target.id not in self.by_id:
            return "the file changed while it was being imported; import it again"
        self.found[key] = self.by_id[target.id]
        return self.found[key]

    def lock(self, store: Store, conn: Connection) -> None:
        """Lock every system found, in ascending order, and read its newest event afresh."""
        self.branch_ids = self.by_branch = None
        ids = sorted(self.by_id)
        for at in range(0, len(ids), LOCK_BATCH):  # a bounded list per statement
            store.lock_branch_systems(conn, ids[at : at + LOCK_BATCH])
        for at in range(0, len(ids), LOCK_BATCH):  # one query per batch, not one per system
            load_last_many(conn, [self.by_id[i] for i in ids[at : at + LOCK_BATCH]])


def import_csv(
    store: Store,
    actor: Actor,
    data: Source,
    *,
    now=None,
    dry_run: bool = False,
    keep_source: bool = False,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Validate every row and append them all in one transaction; returns the count.

    `data` is the file's bytes, its text, a path, or a binary stream (read from its current
    position); it is read twice, a line at a time: once for the systems it names, which are
    then locked in one go, and once to validate and append `chunk_rows` rows at a time.
    Rows apply in file order, each against the state the rows before it left. A row's
    `who` is kept as the reporter (the importer is kept as who entered it) and must be a
    user, unless the row says external=yes. Every row's source is `import`, unless
    `keep_source` (the demo's story, which replays web and phone reports).
    Raises ImportRefused listing every bad row by line number (the first MAX_PROBLEMS, and
    how many more); the transaction is rolled back then, so nothing is written.
    With dry_run, validates the same way and writes nothing (for previews).
    """
    require(actor, Action.IMPORT)
    now = now or now_utc()
    opened = _opener(data)
    with store.write() as conn:
        targets = _Targets(conn)
        with opened() as stream:
            for _line, rec in _records(stream, lambda _problem: None):
                targets.resolve(conn, rec["branch"], rec["system"])
        targets.lock(store, conn)
        users = set(conn.execute(select(tables.users.c.username)).scalars())
        floor = backdate_floor(conn, now)
        problems, count, seen = _Problems(), 0, 0
        with opened() as stream:
            found: list[str] = []  # problems the reader finds between chunks' rows land here
            records = _records(stream, found.append)
            while chunk := list(islice(records, chunk_rows)):
                seen += len(chunk)
                rows = [_row(line, rec, now, found) for line, rec in chunk]
                batch = _check_chunk(
                    conn, actor, rows, targets, users, found, now, floor, keep_source
                )
                problems.add(found)
                found.clear()
                count += len(batch)
                if batch and not problems and not dry_run:
                    append(conn, batch)
            problems.add(found)
        if not seen and not problems:
            problems.add(["line 2: no rows to import after the header"])
        if problems:
            raise problems.refuse()
    return count


def _check_chunk(conn, actor, rows, targets, users, problems, now, floor, keep_source) -> list:
    """Validate rows in order against targets that advance as rows pass; the rows that pass,
    ready to append. Each problem is added to `problems`. A row's source becomes `import`
    unless `keep_source`."""
    resolved = {}
    for row in rows:
        hit = targets.resolve(conn, row.branch, row.system)
        if isinstance(hit, str):
            problems.append(f"line {row.line}: {hit}")
        else:
            resolved[row.line] = hit
    for row in rows:
        if problem := _check_reporter(row.record, users):
            problems.append(f"line {row.line}: {problem}")
    batch = []
    for row in rows:
        target = resolved.get(row.line)
        if target is None or row.change is None:
            continue
        change = replace(
            row.change,
            incident=row.incident,
            source=row.change.source if keep_source else "import",
        )
        try:
            event = validate(actor, target, change, now, floor=floor, conn=conn)
            event["incident_id"] = incident_id(conn, target, change)
        except RestoreError as e:
            problems.append(f"line {row.line}: {e}")
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
