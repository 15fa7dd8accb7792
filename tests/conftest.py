"""Fixtures named for what they give: migrated databases on both backends, users, snapshots."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select, text

from restore import schema
from restore.access import ANONYMOUS, Actor
from restore.audit.log import audit_log
from restore.directory import SYSTEM, actor_for, add_user, seed_reference
from restore.store import Store, branch_systems, events, incidents, users

PG_ADMIN_URL = os.environ.get("RESTORE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


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


@pytest.fixture
def pg_url():
    """A PostgreSQL URL on a fresh schema (skips when PostgreSQL is unreachable)."""
    if not PG_OK:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    with pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database URL on each backend (the PostgreSQL case skips when it is unreachable)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'restore.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'restore.db'}"


@pytest.fixture
def fresh_store(db_url):
    """A migrated database with the reference branches and systems, and no events."""
    store = Store(db_url)
    schema.upgrade(store)
    seed_reference(store)
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
