"""A writer process for test_concurrency: many status changes, as fast as it can.

Run as `python concurrency_worker.py URL USERNAME PLAN_JSON SYNC_DIR`; prints a JSON result.
It writes SYNC_DIR/ready-USERNAME, then waits for SYNC_DIR/go, so that all writers start at once.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from sqlalchemy.exc import OperationalError

from restore.directory import actor_for
from restore.domain import RestoreError, legal_next_states
from restore.records import find_target, load_last, record_status
from restore.store import Store


def current(store: Store, branch: str, system: str):
    with store.read() as conn:
        return load_last(conn, find_target(conn, branch, system)).last


def wait_for_go(sync: Path, username: str) -> None:
    (sync / f"ready-{username}").touch()
    deadline = time.monotonic() + 120
    while not (sync / "go").exists():
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.005)


def write_many(url: str, username: str, targets: list, sync: Path) -> dict:
    """Record one change per target in turn; report accepted event ids and every failure."""
    store = Store(url)
    actor = actor_for(store, username)
    rng = random.Random(username)
    accepted, refused, db_errors = [], 0, []
    current(store, *targets[0])  # connect before the start
    wait_for_go(sync, username)
    for n, (branch, system) in enumerate(targets):
        last = current(store, branch, system)
        options = [s for s in legal_next_states(last.state) if s != last.state]
        note = f"{username}-{n}"
        try:
            event_id = record_status(
                store,
                actor,
                branch=branch,
                system=system,
                state=rng.choice(options),
                note=note,
                seen_event_id=last.id if n % 2 else None,
            )
            accepted.append((event_id, note, branch, system))
        except RestoreError:
            refused += 1  # a conflict or a move made illegal by a rival: refused, not lost
        except OperationalError as e:
            db_errors.append(str(e.orig))
    store.dispose()
    return {"name": username, "accepted": accepted, "refused": refused, "db_errors": db_errors}


if __name__ == "__main__":
    url, name, plan, sync = sys.argv[1:5]
    print(json.dumps(write_many(url, name, json.loads(plan), Path(sync))))
