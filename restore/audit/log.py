"""The audit log: who changed what, append-only, each entry chained to the one before.

An entry's hash is SHA-256 (hex) of the previous entry's hash followed by the
canonical JSON (sorted keys, no spaces, UTF-8) of its id, at, actor, action,
subject and details; the first entry follows GENESIS. Changing, removing or
reordering any entry breaks every hash after it, which verify() finds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import Column, String, Table, Text, insert, select, text
from sqlalchemy.engine import Connection

from restore import csv_safe
from restore.access import Actor
from restore.domain import RestoreError
from restore.store import EventId, Store, UTCDateTime, metadata, now_utc

GENESIS = "0" * 64
# Any constant: serialises appends on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).
_PG_LOCK = 0x52455354_41554454  # "RESTAUDT"
HASHED = ("id", "at", "actor", "action", "subject", "details")
COLUMNS = [*HASHED, "prev_hash", "hash"]

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)


class AuditChainBroken(RestoreError):
    """verify() found an entry whose hash or link does not match."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""
    head: str = GENESIS  # the newest entry's hash: noted off-site, it anchors the chain

    def message(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} entries"
        return f"audit chain broken at entry {self.broken_id}: {self.reason}"


def actor_name(actor: Actor) -> str:
    return actor.username or "anonymous"


def _plain(value) -> str:
    """Dates and times as ISO 8601 (UTC for times); anything else as its str()."""
    if isinstance(value, datetime):
        return _stamp(value)
    return value.isoformat() if isinstance(value, date) else str(value)


def canonical(value) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, entry: dict) -> str:
    fields = {k: entry[k] for k in HASHED} | {"at": _stamp(entry["at"])}
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()


def _head(conn: Connection) -> tuple[int, str]:
    """The newest entry's id and hash, after taking the append lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    row = conn.execute(
        select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
    ).first()
    return (row.id, row.hash) if row else (0, GENESIS)


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    subject: str = "",
    details: dict | None = None,
    now: datetime | None = None,
) -> None:
    """Append one entry inside the caller's write transaction (so it commits or rolls back
    with the change it describes).

    Call it last in the transaction: on PostgreSQL it holds a lock that serialises every
    append until commit, so the chain never forks. Needs the default READ COMMITTED level.
    """
    last_id, prev = _head(conn)
    entry = {
        "id": last_id + 1,
        "at": (now or now_utc()).astimezone(UTC),
        "actor": (actor or "anonymous")[:80],
        "action": action,
        "subject": (subject or "")[:200],
        "details": canonical(details or {}),
    }
    conn.execute(insert(audit_log).values(**entry, prev_hash=prev, hash=entry_hash(prev, entry)))


# --- reading -------------------------------------------------------------------


def check_chain(rows: Iterable[dict]) -> VerifyResult:
    """Walk entries in id order: each must link to the one before and match its own hash."""
    prev, checked = GENESIS, 0
    for row in rows:
        if row["prev_hash"] != prev:
            why = "it does not link to the entry before it (one was changed, removed or added)"
            return VerifyResult(False, checked, row["id"], why)
        if entry_hash(prev, row) != row["hash"]:
            return VerifyResult(False, checked, row["id"], "its contents do not match its hash")
        prev, checked = row["hash"], checked + 1
    return VerifyResult(True, checked, head=prev)


def verify(store: Store) -> VerifyResult:
    """Recompute the whole chain from the database; reports the first broken entry."""
    with store.read() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings()
        return check_chain(rows)


def entries(store: Store, limit: int | None = 200) -> pd.DataFrame:
    """The newest `limit` entries (None: all), newest first, every column."""
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    with store.read() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=COLUMNS)


def _cell(value) -> str:
    """Text a spreadsheet shows and never runs as a formula (csv_safe's one rule)."""
    if isinstance(value, datetime):
        return _stamp(value)
    return csv_safe.cell("" if value is None else str(value))


def to_csv(store: Store) -> str:
    """Every entry, oldest first, with its hashes, as CSV for a regulator.

    A cell starting with = + - @ tab or CR gets a leading apostrophe; remove it
    before recomputing hashes.
    """
    frame = entries(store, limit=None).iloc[::-1]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in frame.itertuples(index=False):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue()
