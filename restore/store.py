"""The shared database: tables, engine, transactions.

One append-only `events` table is the record; `branch_systems.last_event_id`
points at each system's newest event and is moved in the same transaction as
the append, so the board is one join and never a scan of the log.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    column,
    create_engine,
    event,
    func,
    insert,
    select,
    table,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import TypeDecorator

from restore.bindlists import one_of

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'restore.db'}"
SQLITE_BUSY_MS = 60_000


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC; SQLite's naive values come back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
EventId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()
_VERSIONS = table("rm_versions", column("n"))  # restore.readmodels.tables.read_versions

branches = Table(
    "branches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("slug", String(60), nullable=False, unique=True),
    Column("region", String(60), nullable=False),
    Column("is_hq", Boolean, nullable=False, default=False),
    Column("area", String(100)),  # the area or parent site it belongs to, if any
)

systems = Table(
    "systems",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
)

# Writes find branches and systems by name, case-insensitively (migration 0011).
Index("ix_branches_lower_name", func.lower(branches.c.name))
Index("ix_branches_lower_slug", func.lower(branches.c.slug))
Index("ix_systems_lower_key", func.lower(systems.c.key))
Index("ix_branches_region", branches.c.region)  # a region's part of the board

branch_systems = Table(
    "branch_systems",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("system_id", ForeignKey("systems.id"), nullable=False),
    Column("workaround", Text),
    # Current-state pointers, moved in the same transaction as each append.
    Column("last_event_id", EventId),
    Column("since", UTCDateTime),
    # The last event's state, time and expected date, copied with the pointer: the status of
    # every branch system is then one table's read (migration 0013, restore.queries.status).
    Column("last_state", String(20)),
    Column("last_at", UTCDateTime),
    Column("last_eta", Date),
    # The newest event with a note, so a check-in without one keeps the last note in view.
    Column("note_event_id", EventId),
    # When the system was added (None: from the start); stale from then until first reported.
    Column("created_at", UTCDateTime),
    UniqueConstraint("branch_id", "system_id"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("target_date", Date),
    Column("description", Text, nullable=False, default=""),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("branch_id", ForeignKey("branches.id")),
    Column("password_hash", String(200)),
    Column("active", Boolean, nullable=False, default=True),
    Column("email", String(200), unique=True),
    Column("phone", String(40)),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
)

# Signed-in browser sessions: the cookie holds a random token, the table its hash.
sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# Settings the deployment generates once, such as the cookie-signing key.
settings = Table(
    "settings",
    metadata,
    Column("key", String(60), primary_key=True),
    Column("value", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("branch_system_id", ForeignKey("branch_systems.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("effective_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    # Usernames, not foreign keys: an imported log keeps who said it.
    Column("actor", String(80), nullable=False),
    Column("entered_by", String(80), nullable=False),
    Column("source", String(10), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("eta", Date),
    Column("incident_id", ForeignKey("incidents.id")),
    Column("override_reason", Text),
    # The form submission that wrote it: a second tap on Record is refused, not recorded twice.
    Column("submission", String(64)),
    Index("ux_events_submission", "submission", unique=True),
    Index("ix_events_bs_effective", "branch_system_id", "effective_at", "id"),
    Index("ix_events_effective", "effective_at"),
)

# Published briefings: immutable (database triggers refuse UPDATE and DELETE).
briefings = Table(
    "briefings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("author", String(80), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("as_of", UTCDateTime, nullable=False),
    Column("markdown", Text, nullable=False),
    Column("figures", Text, nullable=False),  # the briefing's content as JSON
    Column("progress_png", LargeBinary),
    Column("grid_png", LargeBinary),
)

# restore.recovery.tables.closings, named lightly here: that package imports the modules
# (records, queries) that ask which incidents are closed.
CLOSINGS = table(
    "recovery_closings", column("incident_id"), column("confirmed_at", UTCDateTime)
)

SOURCES = ("web", "cli", "import", "phone", "link")


def database_url() -> str:
    return os.environ.get("RESTORE_DATABASE_URL") or DEFAULT_URL


def _sqlite_setup(engine: Engine) -> None:
    """WAL, a busy timeout and explicit BEGINs, so writers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A write takes the lock at BEGIN: a deferred transaction that upgrades
        # later can fail with "database is locked" instead of waiting.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


class WriteQueue:
    """First come, first served: this process's writers to one SQLite file, one at a time.

    SQLite's busy handler makes a waiting writer sleep and retry, and a writer that has just
    committed takes the lock again before the sleepers wake: with 32 threads writing, some
    waited a second while others wrote at once. Queued here, a writer waits only for those
    ahead of it. Writers in other processes still meet the busy timeout (SQLITE_BUSY_MS).
    PostgreSQL needs none: its row locks queue writers fairly, and a per-process limit on
    its writers was measured to cost throughput, not to help.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._waiting: deque[tuple[int, threading.Lock]] = deque()

    @property
    def queued(self) -> int:
        """How many writers wait for their turn."""
        return len(self._waiting)

    def acquire(self, timeout: float) -> bool:
        """Wait for our turn; False after `timeout` s (the caller goes ahead unqueued)."""
        me, gate = threading.get_ident(), threading.Lock()
        with self._mutex:
            if self._owner is None:
                self._owner = me
                return True
            gate.acquire()
            self._waiting.append((me, gate))
        try:
            if gate.acquire(timeout=timeout):
                return True  # release() handed us the turn
        except BaseException:  # interrupted: leave, or pass on a turn handed over meanwhile
            if not self._leave(me, gate):
                self.release()
            raise
        return not self._leave(me, gate)  # handed over as the wait ran out: ours after all

    def _leave(self, me: int, gate: threading.Lock) -> bool:
        """Step out of the queue; False if the turn was handed to us first."""
        with self._mutex:
            if (me, gate) in self._waiting:
                self._waiting.remove((me, gate))
                return True
            return False

    def release(self) -> None:
        """Hand the turn to the longest waiting writer, if any."""
        with self._mutex:
            if self._waiting:
                self._owner, gate = self._waiting.popleft()
                gate.release()
            else:
                self._owner = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn for a block; a write nested in the same thread does not queue."""
        held = self._owner != threading.get_ident() and self.acquire(SQLITE_BUSY_MS / 1000)
        try:
            yield
        finally:
            if held:
                self.release()


_QUEUES: dict[str, WriteQueue] = {}
_QUEUES_LOCK = threading.Lock()


def write_queue(engine: Engine) -> WriteQueue | None:
    """The process-wide queue of a SQLite file's writers; None for PostgreSQL and for
    in-memory databases (one connection each)."""
    name = engine.url.database or ""
    if engine.dialect.name != "sqlite" or name in ("", ":memory:") or "mode=memory" in name:
        return None
    key = name if name.startswith("file:") else os.path.realpath(name)
    with _QUEUES_LOCK:
        return _QUEUES.setdefault(key, WriteQueue())


class Store:
    """The database and how to talk to it: short read and write transactions."""

    def __init__(self, url: str | None = None, engine: Engine | None = None):
        self.engine = engine or make_engine(url)
        self._queue = write_queue(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: commits if the block returns, rolls back if it raises.

        On SQLite this process's writers take turns first (WriteQueue), then BEGIN IMMEDIATE."""
        turn = self._queue.turn() if self._queue else nullcontext()
        with turn, self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    def lock_branch_systems(self, conn: Connection, ids: list[int]) -> None:
        """Serialise writers per branch system (SQLite's BEGIN IMMEDIATE already locks all)."""
        if self.dialect == "sqlite" or not ids:
            return
        conn.execute(_LOCK, {"ids": sorted(set(ids))}).all()

    def data_version(self) -> tuple[int, int]:
        """A cheap key that changes with every write in any process: (revision, writes).

        Both are counters bumped inside the writing transaction, so unlike the newest event
        id they also move when PostgreSQL commits ids out of order.
        """
        revision = select(settings.c.value).where(settings.c.key == "revision").scalar_subquery()
        with self.read() as conn:
            row = conn.execute(
                select(
                    revision, select(func.coalesce(func.sum(_VERSIONS.c.n), 0)).scalar_subquery()
                )
            ).one()
        return int(row[0] or 0), int(row[1])

    def has_events(self) -> bool:
        with self.read() as conn:
            return conn.execute(select(events.c.id).limit(1)).first() is not None

    def analyze(self) -> None:
        """Refresh PostgreSQL's planner statistics after a bulk load. Autovacuum does it in
        time (where it is on), but until then a plan made without statistics hash-joins
        whole tables: the board at 4,000 sites took twice as long. SQLite is left to its
        own heuristics, which its queries here are written for."""
        if self.dialect != "postgresql":
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")

    def dispose(self) -> None:
        self.engine.dispose()


_LOCK = (
    select(branch_systems.c.id)
    .where(one_of(branch_systems.c.id, "ids", "postgresql"))
    .order_by(branch_systems.c.id)
    .with_for_update()
)


def bump_revision(conn: Connection) -> None:
    """Mark a change outside the event log (users, branches, ...) so caches re-read."""
    done = conn.execute(
        update(settings)
        .where(settings.c.key == "revision")
        .values(value=cast(cast(settings.c.value, Integer) + 1, String))
    ).rowcount
    if not done:
        conn.execute(insert(settings).values(key="revision", value="1"))


def now_utc() -> datetime:
    return datetime.now(UTC)
