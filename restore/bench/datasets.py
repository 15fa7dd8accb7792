"""Synthetic organisations for the benchmark, bulk-inserted straight into a fresh database.

Every branch system walks a legal recovery cycle (restore.domain's transition table),
with check-ins, notes, expected dates and slipped dates, over about 90 days from the
incidents' start. Rows go in with executemany in chunks (COPY on PostgreSQL); ids are
assigned here in effective-time order, so each system's pointers are known without
reading anything back.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy import bindparam, create_engine, insert, text, update
from sqlalchemy.engine import make_url

from restore import schema
from restore.directory import SYSTEM, add_incident, add_user
from restore.domain import Band, band_of, is_legal
from restore.store import Store, branch_systems, branches, bump_revision, events, systems
from restore.timefmt import london_date

SPAN = timedelta(days=90)
CHUNK = 50_000
INCIDENTS = ("Bench attack A", "Bench attack B")
HQ_USER = "hq.it"
NOTES = (
    "Forensics on site; collecting logs.",
    "Restoring from the last clean backup.",
    "Back up on our side; awaiting HQ checks.",
    "Chased the supplier again today.",
)


@dataclass(frozen=True)
class Size:
    name: str
    sites: int
    systems: int
    events: int

    @property
    def pairs(self) -> int:
        return self.sites * self.systems


SIZES = {
    s.name: s
    for s in (Size("S", 44, 3, 2_000), Size("M", 500, 6, 100_000), Size("L", 4000, 25, 2_000_000))
}


@dataclass(frozen=True)
class Clock:
    """The moments a dataset is built around (aware, UTC)."""

    now: datetime
    start: datetime  # the first incident began

    @classmethod
    def around(cls, now: datetime) -> Clock:
        now = now.astimezone(UTC).replace(microsecond=0)
        return cls(now, now - SPAN - timedelta(days=2))

    @property
    def past(self) -> datetime:
        """A moment halfway through, for the board as of a past moment."""
        return self.start + SPAN / 2


def slug(i: int) -> str:
    return f"site-{i:05d}"


def key(j: int) -> str:
    return f"sys{j:02d}"


# --- one system's walk -----------------------------------------------------------

_NEXT = {
    "outage": "investigating",
    "contained": "investigating",
    "investigating": "rebuilding",
    "rebuilding": "verifying",
}


def _advance(rng: random.Random, current: str) -> str:
    if current in _NEXT:
        return _NEXT[current]
    if current == "verifying":
        r = rng.random()
        return "restored" if r < 0.8 else "degraded" if r < 0.9 else "rebuilding"
    if current == "degraded" and rng.random() < 0.6:
        return "restored"
    return rng.choice(("outage", "contained"))  # in service: a new attack


def walk(rng: random.Random, n: int, first: datetime, last: datetime) -> list[tuple]:
    """`n` events of one system: (state, effective_at, note, eta or None, eta_changed).

    A baseline `operational` an hour before `first`, then an attack and the recovery path
    with check-ins, staying in service a while before any new attack. `eta` is the
    expected date the event carries (kept while out of service, as records does);
    `eta_changed` says the event set it (an importer writes only those).
    """
    span = (last - first).total_seconds()
    times = sorted(first + timedelta(seconds=rng.uniform(0, span)) for _ in range(n - 1))
    out = [("operational", first - timedelta(hours=1), "Baseline.", None, False)]
    state, eta = "operational", None
    for at in times:
        in_service = band_of(state) is Band.IN
        if rng.random() < (0.75 if in_service and state != "operational" else 0.3):
            nxt = state  # a check-in
        else:
            nxt = _advance(rng, state)
        today = london_date(at)
        changed = False
        if band_of(nxt) is Band.IN:
            eta = None
        elif nxt == "investigating" and nxt != state:
            eta, changed = today + timedelta(days=rng.randint(5, 25)), True
        elif nxt == state and eta is not None and rng.random() < 0.2:
            eta, changed = max(eta, today) + timedelta(days=rng.randint(3, 10)), True  # slipped
        note = rng.choice(NOTES) if changed or rng.random() < 0.3 else ""
        assert is_legal(state, nxt), (state, nxt)
        out.append((nxt, at, note, eta, changed))
        state = nxt
    return out


def plan_events(size: Size, clock: Clock, seed: int = 9) -> list[tuple]:
    """Every event of the organisation, in effective-time order:
    (branch_system_id, state, effective_at, note, eta, eta_changed, incident_id)."""
    rng = random.Random(seed)
    per, extra = divmod(size.events, size.pairs)
    rows = []
    for bs in range(1, size.pairs + 1):
        site = (bs - 1) // size.systems
        incident = 1 + site % 2
        first = clock.start + timedelta(days=7 * (incident - 1))
        n = max(2, per + (1 if bs <= extra else 0))
        for state, at, note, eta, changed in walk(rng, n, first, clock.start + SPAN):
            rows.append(
                (bs, state, at, note, eta, changed, None if note == "Baseline." else incident)
            )
    rows.sort(key=lambda r: r[2])
    return rows


# --- writing ---------------------------------------------------------------------


def build_reference(store: Store, size: Size, clock: Clock) -> None:
    """Branches, systems, every branch with every system, the incidents and HQ IT's user."""
    with store.write() as conn:
        conn.execute(
            insert(branches),
            [
                {"name": f"Site {i:05d}", "slug": slug(i), "region": f"Region {i % 12:02d}",
                 "is_hq": i == 0, "area": None}
                for i in range(size.sites)
            ],
        )  # fmt: skip
        conn.execute(
            insert(systems),
            [{"key": key(j), "name": f"System {j:02d}"} for j in range(size.systems)],
        )
        conn.execute(
            insert(branch_systems),
            [
                {"id": b * size.systems + s + 1, "branch_id": b + 1, "system_id": s + 1}
                for b in range(size.sites)
                for s in range(size.systems)
            ],
        )
    for k, name in enumerate(INCIDENTS):
        add_incident(
            store, SYSTEM, name=name, started_at=clock.start + timedelta(days=7 * k),
            target_date=(clock.start + SPAN).date(), description="Synthetic benchmark incident.",
        )  # fmt: skip
    add_user(store, SYSTEM, username=HQ_USER, role="hq-it", display_name="HQ IT (bench)")


def build(store: Store, size: Size, clock: Clock) -> int:
    """Fill a migrated, empty database; returns the number of events written."""
    build_reference(store, size, clock)
    planned = plan_events(size, clock)
    rows = [
        (i, bs, state, at, min(at + timedelta(minutes=(i % 29) + 1), clock.now), note, eta, inc)
        for i, (bs, state, at, note, eta, _, inc) in enumerate(planned, start=1)
    ]
    del planned
    if store.dialect == "postgresql":
        _copy_events(store, rows)
    else:
        for lo in range(0, len(rows), CHUNK):
            with store.write() as conn:
                conn.execute(insert(events), [_event_dict(r) for r in rows[lo : lo + CHUNK]])
    _set_pointers(store, rows)
    return len(rows)


_COLUMNS = ("id", "branch_system_id", "state", "effective_at", "recorded_at", "note", "eta",
            "incident_id")  # fmt: skip


def _event_dict(r: tuple) -> dict:
    return dict(zip(_COLUMNS, r, strict=True)) | {
        "actor": "bench", "entered_by": "bench", "source": "web",
    }  # fmt: skip


def _copy_events(store: Store, rows: list[tuple]) -> None:
    cols = ", ".join((*_COLUMNS, "actor", "entered_by", "source"))
    with store.write() as conn:
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY events ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row((*r, "bench", "bench", "web"))
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('events', 'id'), (SELECT max(id) FROM events))"
        )


def _set_pointers(store: Store, rows: list[tuple]) -> None:
    """Each system's newest event, when its current state began, and its newest note."""
    last: dict[int, list] = {}
    for event_id, bs, state, at, _, note, eta, _ in rows:
        p = last.get(bs)
        if p is None:
            last[bs] = p = [event_id, state, at, None, at, eta]
        elif state != p[1]:
            p[1], p[2] = state, at
        p[0], p[4], p[5] = event_id, at, eta
        if note:
            p[3] = event_id
    values = [
        {"b": bs, "e": p[0], "s": p[2], "n": p[3], "st": p[1], "at": p[4], "eta": p[5]}
        for bs, p in last.items()
    ]
    stmt = (
        update(branch_systems)
        .where(branch_systems.c.id == bindparam("b"))
        .values(
            last_event_id=bindparam("e"), since=bindparam("s"), note_event_id=bindparam("n"),
            last_state=bindparam("st"), last_at=bindparam("at"), last_eta=bindparam("eta"),
        )
    )  # fmt: skip
    for lo in range(0, len(values), CHUNK):
        with store.write() as conn:
            conn.execute(stmt, values[lo : lo + CHUNK])
    with store.write() as conn:
        bump_revision(conn)


def rebuild_read_models(store: Store) -> str:
    """restore.readmodels.rebuild(store) when that package exists; says what happened."""
    try:
        from restore import readmodels
    except ImportError as e:
        return f"absent ({e}): reads are the log queries"
    rebuild = getattr(readmodels, "rebuild", None)
    if rebuild is None:
        return "absent (restore.readmodels has no rebuild yet): reads are the log queries"
    rebuild(store)
    return "rebuilt"


# --- import sample ---------------------------------------------------------------


def import_csv_bytes(size: Size, clock: Clock, rows: int) -> bytes:
    """A status CSV of about `rows` rows over the first systems, legal in file order."""
    per = max(2, size.events // size.pairs)
    sites = min(size.sites, max(1, -(-rows // (per * size.systems))))
    sized = Size(size.name, sites, size.systems, rows)
    planned = plan_events(sized, clock, seed=11)
    lines = ["branch,system,state,at,note,eta,incident"]
    for bs, state, at, note, eta, changed, inc in planned:
        site, sys_ = divmod(bs - 1, size.systems)
        note = note.replace('"', "")
        lines.append(
            f'{slug(site)},{key(sys_)},{state},{at.isoformat()},"{note}",'
            f"{eta.isoformat() if changed else ''},{INCIDENTS[inc - 1] if inc else ''}"
        )
    return ("\n".join(lines) + "\n").encode()


# --- databases -------------------------------------------------------------------


@contextmanager
def fresh_database(db: str, pg_url: str, label: str) -> Iterator[str]:
    """A migrated, empty database URL: a temporary SQLite file, or a new PostgreSQL database
    (created on the server of `pg_url`, dropped afterwards)."""
    if db == "sqlite":
        with TemporaryDirectory(prefix="restore-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / f'{label}.db'}"
            _migrate(url)
            yield url
        return
    name = f"bench_{label.lower()}_{random.randrange(16**8):08x}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _migrate(url: str) -> None:
    store = Store(url)
    schema.upgrade(store)
    store.dispose()
