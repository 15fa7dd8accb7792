"""Eight processes write at once; nothing is lost, nobody sees "database is locked", rules hold."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from restore import schema
from restore.directory import SYSTEM, add_user, seed_reference
from restore.domain import replay
from restore.store import Store, branch_systems, events

ROOT = Path(__file__).parents[1]
WORKER = Path(__file__).with_name("concurrency_worker.py")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
WRITERS, CHANGES = 8, 50
OWN = ["kent", "essex", "surrey", "sussex", "dorset", "gwent", "durham", "norfolk"]
SHARED = [("hq", "website"), ("hq", "email")]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'restore.db'}"
    return request.getfixturevalue("pg_url")


def test_eight_writers_lose_nothing_and_keep_every_log_legal(url, tmp_path):
    store = Store(url)
    schema.upgrade(store)
    seed_reference(store)
    for i in range(WRITERS):
        add_user(store, SYSTEM, username=f"w{i}", role="hq-it")
    plans = [
        [(OWN[i], "email") if n % 2 else SHARED[n % 4 // 2] for n in range(CHANGES)]
        for i in range(WRITERS)
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, f"w{i}", json.dumps(plans[i]), str(tmp_path)],
            stdout=subprocess.PIPE, cwd=ROOT, text=True, env=ENV,
        )
        for i in range(WRITERS)
    ]  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < WRITERS and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break  # a writer died before the start; its output says why
        time.sleep(0.01)
    (tmp_path / "go").touch()  # all eight start together
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * WRITERS
    outcomes = [tuple(json.loads(out).values()) for out in outputs]

    assert [e for _, _, _, errs in outcomes for e in errs] == []  # no "database is locked"
    accepted = {(eid, note) for _, acc, _, _ in outcomes for eid, note, _, _ in acc}
    with store.read() as conn:
        log = conn.execute(
            select(events.c.id, events.c.note, events.c.branch_system_id, events.c.state).order_by(
                events.c.id
            )
        ).all()
        pointers = dict(
            conn.execute(select(branch_systems.c.id, branch_systems.c.last_event_id)).all()
        )
    assert {(r.id, r.note) for r in log} == accepted  # every accepted change, nothing else

    by_system: dict[int, list] = {}
    for r in log:
        by_system.setdefault(r.branch_system_id, []).append(r)
    for bs, rows in by_system.items():
        assert replay([r.state for r in rows]) == [], f"illegal sequence on branch system {bs}"
        assert pointers[bs] == rows[-1].id

    for name, acc, _, _ in outcomes:  # own systems have no rival: every change accepted
        assert sum(1 for _, _, b, _ in acc if b in OWN) == CHANGES // 2, name
    shared_writers = {name for name, acc, _, _ in outcomes if any(b == "hq" for _, _, b, _ in acc)}
    assert len(shared_writers) >= 2  # the shared systems really were written concurrently
    store.dispose()
