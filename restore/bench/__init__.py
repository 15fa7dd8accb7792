"""`python -m restore.bench`: the read models, the overview page, writes and the import,
timed at sizes S, M and L on SQLite and PostgreSQL, beside a SQL floor and a naive peer.

`run` is the one entry point: it returns the results as plain data (see report.py for
the targets they are held against). Each read's answer is cross-checked against its
floor and naive peers (`agree`); each write level counts that no write was lost.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

from restore.bench import datasets, report, timings
from restore.store import Store, now_utc

PARTS = ("page", "reads", "briefing", "writes", "import")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def run_one(
    size: datasets.Size,
    db: str,
    *,
    pg_url: str = DEFAULT_PG_URL,
    parts: tuple[str, ...] = PARTS,
    repeat: int = 3,
    writes: int = timings.WRITES_PER_LEVEL,
    now: datetime | None = None,
    log=print,
) -> dict:
    """Build `size` in a fresh database of kind `db` ("sqlite" or "postgresql") and measure.

    The database is dropped afterwards. Writes come after the reads and the page (they add
    events), the import uses a database of its own.
    """
    clock = datasets.Clock.around(now or now_utc())
    moments = timings.moments_for(clock)
    result = {"size": size.name, "db": db, "sites": size.sites, "systems": size.systems}
    result["load_average_start"] = _load()
    with datasets.fresh_database(db, pg_url, size.name) as url:
        store = Store(url)
        try:
            t = time.perf_counter()
            result["events"] = datasets.build(store, size, clock)
            result["readmodels"] = datasets.rebuild_read_models(store)
            result["build_s"] = round(time.perf_counter() - t, 2)
            log(f"{size.name}/{db}: built {result['events']:,} events in {result['build_s']} s "
                f"(read models: {result['readmodels']})")  # fmt: skip
            if "reads" in parts:
                result["reads"] = timings.measure_reads(store, moments, repeat)
                log(f"{size.name}/{db}: reads done")
            if "briefing" in parts:
                result["briefing"] = timings.measure_briefing(store, moments, repeat)
            if "page" in parts:
                result["page"] = timings.measure_page(url, store, size)
                log(f"{size.name}/{db}: page done")
            if "writes" in parts:
                result["writes"] = timings.measure_writes(url, size, total=writes)
                log(f"{size.name}/{db}: writes done")
        finally:
            store.dispose()
    if "import" in parts:
        result["import"] = timings.measure_import(db, pg_url, size, clock)
        log(f"{size.name}/{db}: import done")
    result["load_average_end"] = _load()
    return result


def _load() -> list[float] | None:
    """The machine's 1, 5 and 15 minute load averages: other work inflates every time."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run(
    sizes: list[str],
    dbs: list[str],
    *,
    pg_url: str = DEFAULT_PG_URL,
    parts: tuple[str, ...] = PARTS,
    repeat: int | None = None,
    writes: int = timings.WRITES_PER_LEVEL,
    log=print,
) -> dict:
    """Every size on every database; returns {"machine", "started", "runs"}."""
    results = {
        "machine": report.machine(pg_url if "postgresql" in dbs else None),
        "started": now_utc().isoformat(),
        "runs": [],
    }
    for name in sizes:
        size = datasets.SIZES[name]
        for db in dbs:
            reps = repeat if repeat is not None else (1 if name == "L" else 3)
            results["runs"].append(
                run_one(size, db, pg_url=pg_url, parts=parts, repeat=reps, writes=writes, log=log)
            )
    return results
