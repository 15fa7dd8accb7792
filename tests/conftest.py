"""Fixtures named for what they give: migrated databases on both backends, users, snapshots."""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text

from restore import schema
from restore.access import ANONYMOUS, Actor
from restore.audit.log import audit_log
from restore.directory import SYSTEM, actor_for, add_user, seed_reference
from restore.store import Store, branch_systems, events, incidents, users

PG_ADMIN_URL = os.environ.get("RESTORE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def live_demo_moment() -> tuple[date, datetime]:
    """(start, now) for a demo that the live app is run on: the story cut at the last 06:00
    London and begun eight weeks before that day. The story stands where it stood when these
    tests were written, whatever the hour of the run: cut at the hour of the run, some of the
    systems the tests use were waiting for HQ's checks at some hours and not at others."""
    from restore.timefmt import LONDON

    now = datetime.now(LONDON)
    cut = now.replace(hour=6, minute=0, second=0, microsecond=0)
    if cut > now:
        cut -= timedelta(days=1)
    return cut.date() - timedelta(weeks=8), cut.astimezone(UTC)


def _pg_reachable() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


PG_OK = _pg_reachable()


def pytest_report_header(config):
    if PG_OK:
        return f"PostgreSQL: {PG_ADMIN_URL} reachable; database tests run on SQLite and PostgreSQL"
    return f"PostgreSQL: {PG_ADMIN_URL} NOT reachable; PostgreSQL database tests are SKIPPED"


@contextmanager
def pg_schema():
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {name}"))
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


def _admin():
    """An engine on the maintenance database that may CREATE and DROP databases."""
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def pg_database(template: str | None = None):
    """A URL of a new PostgreSQL database (a copy of `template`, if given), dropped afterwards.

    A copy of a migrated, seeded template takes milliseconds; migrating takes a second."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    copy = f" TEMPLATE {template} STRATEGY WAL_LOG" if template else ""
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}{copy}"))
    try:
        yield _database_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def pg_url():
    """A URL of a new, empty PostgreSQL database (skips when PostgreSQL is unreachable)."""
    if not PG_OK:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    with pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database URL on each backend (the PostgreSQL case skips when it is unreachable)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'restore.db'}"
    return request.getfixturevalue("pg_url")


def _seed(url: str) -> None:
    store = Store(url)
    schema.upgrade(store)
    seed_reference(store)
    if store.dialect == "sqlite":
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """Migrated databases holding the reference data, made once per run and copied per test."""
    made: dict[str, str] = {}

    def get(dialect: str) -> str:
        if dialect not in made:
            if dialect == "sqlite":
                path = tmp_path_factory.mktemp("template") / "restore.db"
                _seed(f"sqlite:///{path}")
                made[dialect] = str(path)
            else:
                name = f"tpl_{uuid.uuid4().hex[:12]}"
                with _admin().connect() as conn:
                    conn.execute(text(f"CREATE DATABASE {name}"))
                _seed(_database_url(name))
                made[dialect] = name
        return made[dialect]

    yield get
    if "postgresql" in made:
        with _admin().connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {made['postgresql']} WITH (FORCE)"))


def _copy_template(url: str, templates) -> None:
    """Make the (empty) database at `url` a copy of the seeded template."""
    if url.startswith("sqlite"):
        shutil.copyfile(templates("sqlite"), url.split("///", 1)[1])
        return
    name = url.rsplit("/", 1)[1]
    template = templates("postgresql")
    with _admin().connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY WAL_LOG"))


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'restore.db'}"


@pytest.fixture
def fresh_store(db_url, templates):
    """A migrated database with the reference branches and systems, and no events."""
    _copy_template(db_url, templates)
    store = Store(db_url)
    yield store
    store.dispose()


@pytest.fixture
def people(fresh_store) -> dict[str, Actor]:
    """One actor per role (the chair is West Midlands'), plus a Kent chair and anonymous."""
    for name, role, branch in (
        ("it", "hq-it", None),
        ("boss", "leadership", None),
        ("wm", "chair", "west-midlands"),
        ("kent", "chair", "kent"),
    ):
        add_user(fresh_store, SYSTEM, username=name, role=role, branch=branch)
    out = {n: actor_for(fresh_store, n) for n in ("it", "boss", "wm", "kent")}
    out["anon"] = ANONYMOUS
    return out


def snapshot(store: Store) -> dict:
    """Everything a write could change, to assert that a refused write changed nothing."""
    with store.read() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in (events, branch_systems, users, incidents, audit_log)
        }
