"""Fast databases for the recovery tests: each backend is migrated and seeded once per
session, then handed to every test as it was (a file copy on SQLite; on PostgreSQL the
tables are reset in one transaction), so a test pays milliseconds, not a migration."""

from __future__ import annotations

import shutil

import pytest
from conftest import PG_ADMIN_URL, PG_OK, pg_schema, snapshot
from sqlalchemy import MetaData, insert, select, text

from restore import schema
from restore.access import ANONYMOUS
from restore.directory import SYSTEM, actor_for, add_user, seed_reference
from restore.recovery.tables import ALL
from restore.store import Store

USERS = (
    ("it", "hq-it", None),
    ("it2", "hq-it", None),
    ("boss", "leadership", None),
    ("boss2", "leadership", None),
    ("wm", "chair", "west-midlands"),
    ("kent", "chair", "kent"),
)


def _fill(store: Store) -> None:
    schema.upgrade(store)
    seed_reference(store)
    for name, role, branch in USERS:
        add_user(store, SYSTEM, username=name, role=role, branch=branch)


# Built once per test session, whichever test module asks first (each module imports the
# fixtures, which pytest then treats as its own).
_BUILT: dict = {}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    if "sqlite" not in _BUILT:
        path = tmp_path_factory.mktemp("recovery") / "template.db"
        store = Store(f"sqlite:///{path}")
        _fill(store)
        store.dispose()
        _BUILT["sqlite"] = path
    return _BUILT["sqlite"]


class _PgReset:
    """One PostgreSQL schema, migrated and seeded once; reset() puts every table back as
    it was (TRUNCATE, re-insert, sequences moved on) in one transaction. Much faster than
    a migration, or a CREATE/DROP DATABASE, per test."""

    def __init__(self, url: str):
        self.url = url
        store = Store(url)
        _fill(store)
        self.engine = store.engine
        self.meta = MetaData()
        self.meta.reflect(self.engine)
        with self.engine.connect() as conn:
            self.rows = {
                t.name: [dict(r) for r in conn.execute(select(t)).mappings()]
                for t in self.meta.sorted_tables
            }
            self.sequences = [
                (t.name, c.name, seq)
                for t in self.meta.sorted_tables
                for c in t.primary_key.columns
                if (seq := conn.execute(
                    text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": c.name}
                ).scalar())
            ]  # fmt: skip

    def reset(self) -> None:
        with self.engine.begin() as conn:
            # Replica mode: no triggers (the append-only guards, foreign keys) while resetting.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for t in self.meta.sorted_tables:
                conn.execute(t.delete())
            for t in self.meta.sorted_tables:
                if self.rows[t.name]:
                    conn.execute(insert(t), self.rows[t.name])
            for table, column, seq in self.sequences:
                conn.execute(text(
                    f'SELECT setval(:s, COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1,'
                    " false)"
                ), {"s": seq})  # fmt: skip


@pytest.fixture(scope="session")
def pg_template(request):
    if not PG_OK:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    if "pg" not in _BUILT:
        schema_cm = pg_schema()
        kit = _PgReset(schema_cm.__enter__())

        def drop():
            kit.engine.dispose()
            schema_cm.__exit__(None, None, None)

        request.config.add_cleanup(drop)
        _BUILT["pg"] = kit
    return _BUILT["pg"]


@pytest.fixture(params=["sqlite", "postgresql"])
def rec_url(request, tmp_path):
    """The template database on each backend, as it was after seeding; the URL."""
    if request.param == "sqlite":
        path = tmp_path / "restore.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    kit = request.getfixturevalue("pg_template")
    kit.reset()
    return kit.url


@pytest.fixture
def rstore(rec_url):
    store = Store(rec_url)
    yield store
    store.dispose()


@pytest.fixture
def cast(rstore) -> dict:
    """The actors: it, it2 (HQ IT), boss, boss2 (leadership), wm, kent (chairs), anon."""
    out = {name: actor_for(rstore, name) for name, _, _ in USERS}
    out["anon"] = ANONYMOUS
    return out


def full_snapshot(store: Store) -> dict:
    """conftest's snapshot plus every recovery table."""
    out = snapshot(store)
    with store.read() as conn:
        for t in ALL:
            out[t.name] = [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
    return out
