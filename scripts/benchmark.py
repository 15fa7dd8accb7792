"""Time the read models at the scale they were designed for and print the figures.

    .venv/bin/python scripts/benchmark.py [--url URL] [--sites N] [--systems N] [--events N]

Builds a synthetic organisation (sites x systems, every system walking a legal
recovery cycle) straight into a fresh database, then times the board, the board
as of a past moment, the progress series, episodes and one validated write.
Prints figures; asserts nothing (tests assert behaviour, never wall-clock times).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, insert, select, update  # noqa: E402

from restore import queries, schema, timelines  # noqa: E402
from restore.directory import SYSTEM  # noqa: E402
from restore.records import record_status  # noqa: E402
from restore.store import Store, branch_systems, branches, events, systems  # noqa: E402

CYCLE = ["outage", "investigating", "rebuilding", "verifying", "restored"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def build(store: Store, sites: int, n_systems: int, n_events: int) -> None:
    with store.write() as conn:
        conn.execute(
            insert(branches),
            [
                {
                    "name": f"Site {i:05d}",
                    "slug": f"site-{i:05d}",
                    "region": f"Region {i % 12}",
                    "is_hq": i == 0,
                }
                for i in range(sites)
            ],
        )
        conn.execute(
            insert(systems), [{"key": f"sys{j}", "name": f"System {j}"} for j in range(n_systems)]
        )
        conn.execute(
            insert(branch_systems),
            [
                {"branch_id": b, "system_id": s}
                for b in range(1, sites + 1)
                for s in range(1, n_systems + 1)
            ],
        )
    pairs = sites * n_systems
    per = max(1, n_events // pairs)
    step = timedelta(minutes=90 * 24 * 60 / per)  # spread each system's events over 90 days
    batch, last = [], {}
    for k in range(per):
        at = START + k * step
        for bs in range(1, pairs + 1):
            batch.append(
                {
                    "branch_system_id": bs,
                    "state": CYCLE[k % len(CYCLE)],
                    "effective_at": at + timedelta(seconds=bs % 3600),
                    "recorded_at": at,
                    "actor": "bench",
                    "entered_by": "bench",
                    "source": "import",
                    "note": "",
                    "eta": None,
                }
            )
            if len(batch) == 20_000:
                _flush(store, batch, last)
    _flush(store, batch, last)
    rows = [{"b": bs, "e": e, "s": at} for bs, (e, at) in last.items()]
    with store.write() as conn:  # every system's pointer to its newest event
        conn.execute(
            update(branch_systems)
            .where(branch_systems.c.id == bindparam("b"))
            .values(last_event_id=bindparam("e"), since=bindparam("s")),
            rows,
        )


def _flush(store: Store, batch: list, last: dict) -> None:
    if not batch:
        return
    with store.write() as conn:
        ids = (
            conn.execute(insert(events).returning(events.c.id, sort_by_parameter_order=True), batch)
            .scalars()
            .all()
        )
    for row, event_id in zip(batch, ids, strict=True):
        last[row["branch_system_id"]] = (event_id, row["effective_at"])
    batch.clear()


def timed(label: str, fn, repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    size = len(result) if hasattr(result, "__len__") else ""
    print(f"{label:<40} {best * 1000:10.1f} ms   {size} rows")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    p.add_argument("--sites", type=int, default=4000)
    p.add_argument("--systems", type=int, default=25)
    p.add_argument("--events", type=int, default=2_000_000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(args.url or f"sqlite:///{tmp}/bench.db")
        schema.upgrade(store)
        t = time.perf_counter()
        build(store, args.sites, args.systems, args.events)
        with store.read() as conn:
            count = conn.execute(select(events.c.id).order_by(events.c.id.desc()).limit(1)).scalar()
        print(
            f"built {args.sites} sites x {args.systems} systems, {count} events "
            f"in {time.perf_counter() - t:.0f} s ({store.dialect})"
        )
        mid = START + timedelta(days=45)
        timed("board (current pointers)", lambda: queries.board(store))
        timed("board as of day 45 (replay)", lambda: queries.board_as_of(store, mid))
        timed("progress per day", lambda: queries.progress(store, until=START + timedelta(days=91)))
        timed(
            "progress per hour",
            lambda: queries.progress(store, until=START + timedelta(days=91), freq="h"),
        )
        timed("outage episodes", lambda: timelines.durations(store), repeat=1)
        timed("data version (cache key)", store.data_version)
        timed(
            "one validated write",
            lambda: [
                record_status(
                    store,
                    SYSTEM,
                    branch="site-00001",
                    system="sys1",
                    state="outage",
                    at=START + timedelta(days=200),
                    now=START + timedelta(days=200),
                )
            ],
            repeat=1,
        )
        store.dispose()


if __name__ == "__main__":
    main()
