"""Backups: the whole record in one JSON file, and loading one into an empty database.

The file keeps every id, so a backup taken on SQLite restores into PostgreSQL and back.
Sign-in sessions, tickets and the cookie-signing key are left out: a restored
deployment makes a new key, so every old cookie is void and everyone signs in again.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Date, LargeBinary, Table, func, insert, select, text, update
from sqlalchemy.engine import Connection

from restore import schema
from restore.access import Action, Actor, require
from restore.audit.log import actor_name, audit_log, check_chain, record
from restore.domain import RestoreError
from restore.readmodels import rebuild_in
from restore.store import (
    Store,
    UTCDateTime,
    branch_systems,
    branches,
    briefings,
    bump_revision,
    events,
    incidents,
    now_utc,
    settings,
    systems,
    users,
)

FORMAT, VERSION = "restore-backup", 1
# In foreign-key order: each table only points at tables before it.
CORE_TABLES: tuple[Table, ...] = (
    branches, systems, incidents, users, branch_systems, events, briefings, audit_log,
)  # fmt: skip


def backed_up() -> tuple[Table, ...]:
    """Every table a backup holds, in foreign-key order (the notify and recovery packages
    import restore.audit, so their tables are named here at call time)."""
    from restore.notify import tables as n
    from restore.recovery import tables as r

    return (
        *CORE_TABLES,
        n.user_channels, n.links, n.delivery_log, n.reminders, n.subscriptions, n.alert_queue,
        r.checklist_items, r.ticks, r.evidence, r.dependencies, r.clocks, r.clock_events,
        r.closings,
    )  # fmt: skip


SECRET_SETTINGS = {"cookie_key"}
_LABELS = {"audit_log": "audit entries", "branch_systems": "branch systems"}
CHUNK = 2000


class BackupError(RestoreError):
    """The backup file is unreadable or does not fit, or the database is not empty."""


def describe(counts: dict[str, int]) -> str:
    """'44 branches, 3 systems, ...' for messages."""
    return ", ".join(f"{n} {_LABELS.get(name, name)}" for name, n in counts.items())


# --- values <-> JSON -----------------------------------------------------------


def _out(column, value):
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(column.type, Date):
        return value.isoformat()
    if isinstance(column.type, LargeBinary):
        return base64.b64encode(value).decode("ascii")
    return value


def _in(column, value):
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value)
    return value


# --- backup --------------------------------------------------------------------


def _read_all(store: Store) -> dict:
    """Every table as it stood at one moment (one snapshot on either backend)."""
    with store.read() as conn:
        if store.dialect == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        tables = {
            t.name: [
                {c.name: _out(c, row[c.name]) for c in t.columns}
                for row in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings()
            ]
            for t in backed_up()
        }
        rows = conn.execute(select(settings).order_by(settings.c.key)).all()
    tables["settings"] = [{"key": k, "value": v} for k, v in rows if k not in SECRET_SETTINGS]
    return tables


def _write_atomically(path: Path, blob: bytes) -> None:
    """A crash mid-write leaves the old file (or none), never half a backup."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(blob)
    os.replace(partial, path)


def backup(store: Store, actor: Actor, path: str | Path, *, now: datetime | None = None) -> dict:
    """Write the whole database to `path` (gzip-compressed if it ends in .gz); HQ IT only.

    Returns the row count per table. The audit entry names the file's SHA-256, so a
    file restored later can be matched to the backup that made it.
    """
    require(actor, Action.MANAGE)
    path, now = Path(path), now or now_utc()
    tables = _read_all(store)
    data = {
        "format": FORMAT,
        "version": VERSION,
        "schema_revision": schema.current_revision(store),
        "created_at": now.astimezone(UTC).isoformat(),
        "created_by": actor_name(actor),
        "source": store.dialect,
        "tables": tables,
    }
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    if path.suffix == ".gz":
        blob = gzip.compress(blob, mtime=0)
    _write_atomically(path, blob)
    counts = {name: len(rows) for name, rows in tables.items()}
    details = {"file": str(path), "sha256": hashlib.sha256(blob).hexdigest(), "counts": counts}
    with store.write() as conn:
        record(conn, actor=actor_name(actor), action="backup", subject=path.name,
               details=details, now=now)  # fmt: skip
    return counts


# --- restore -------------------------------------------------------------------


def _load(blob: bytes) -> dict:
    try:
        if blob[:2] == b"\x1f\x8b":
            blob = gzip.decompress(blob)
        data = json.loads(blob)
    except (OSError, EOFError, ValueError) as e:
        raise BackupError(f"not a readable backup file: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError("not a Restore backup file")
    if data.get("version") != VERSION:
        raise BackupError(f"backup format version {data.get('version')} is not {VERSION}")
    return data


def _rows(data: dict) -> dict[str, list[dict]]:
    """Each table's rows as database values; refuses unknown tables and columns."""
    tables = data.get("tables") or {}
    missing = [t.name for t in backed_up() if t.name not in tables] + (
        [] if "settings" in tables else ["settings"]
    )
    if missing:
        raise BackupError(f"the backup has no {', '.join(missing)} table")
    out = {}
    for t in backed_up():
        known = set(t.columns.keys())
        for row in tables[t.name]:
            if extra := set(row) - known:
                raise BackupError(f"{t.name} has columns this schema lacks: {sorted(extra)}")
        out[t.name] = [{k: _in(t.columns[k], v) for k, v in r.items()} for r in tables[t.name]]
    out["settings"] = [r for r in tables["settings"] if r["key"] not in SECRET_SETTINGS]
    return out


def _ensure_schema(store: Store, wanted: str | None) -> None:
    """The backup must be of this version's schema; a bare database gets that schema."""
    head = ScriptDirectory(str(schema.MIGRATIONS)).get_current_head()
    if wanted != head:
        raise BackupError(
            f"the backup is at schema revision {wanted} but this version of Restore is at "
            f"{head}: restore it with the version that made it, then upgrade"
        )
    current = schema.current_revision(store)
    if current is None:
        schema.upgrade(store)
    elif current != head:
        raise BackupError(f"the database schema is at {current}: run `python -m restore init`")


def _refuse_non_empty(conn: Connection) -> None:
    counts = {
        t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in backed_up()
    }
    if held := {name: n for name, n in counts.items() if n}:
        raise BackupError(
            f"the database is not empty (it holds {describe(held)}): restore needs an empty "
            "database, e.g. a new one after `python -m restore init`"
        )


def _put_settings(conn: Connection, rows: list[dict]) -> None:
    for row in rows:
        done = conn.execute(
            update(settings).where(settings.c.key == row["key"]).values(value=row["value"])
        ).rowcount
        if not done:
            conn.execute(insert(settings).values(key=row["key"], value=row["value"]))
    bump_revision(conn)


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL's id sequences go past the restored ids (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for t in backed_up():
        if "id" not in t.c or t.c.id.autoincrement is False:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {t.name}), 0) + 1, false)"
            )
        )


def restore(store: Store, actor: Actor, path: str | Path, *, now: datetime | None = None) -> dict:
    """Load a backup into an empty database (creating the schema if there is none), keeping
    every id, in one transaction; HQ IT only. Returns the row count per table.

    Raises BackupError, writing nothing, for an unreadable file, a broken audit chain in
    it, another schema revision, or a database holding any branch, user, event or entry.
    """
    require(actor, Action.MANAGE)
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise BackupError(f"cannot read {path}: {e.strerror}") from None
    data = _load(blob)
    rows = _rows(data)
    if not (chain := check_chain(rows[audit_log.name])).ok:
        raise BackupError(f"the backup's {chain.message()}")
    _ensure_schema(store, data.get("schema_revision"))
    with store.write() as conn:
        _refuse_non_empty(conn)
        for t in backed_up():
            for i in range(0, len(rows[t.name]), CHUNK):
                conn.execute(insert(t), rows[t.name][i : i + CHUNK])
        _put_settings(conn, rows["settings"])
        _reset_sequences(conn)
        rebuild_in(conn)  # the read models are derived, so a backup leaves them out
        counts = {name: len(r) for name, r in rows.items()}
        details = {
            "file": str(path),
            "sha256": hashlib.sha256(blob).hexdigest(),
            "backup_created_at": data.get("created_at"),
            "source": data.get("source"),
            "counts": counts,
        }
        record(conn, actor=actor_name(actor), action="restore", subject=path.name,
               details=details, now=now)  # fmt: skip
    return counts
