"""A large status CSV, written as a stream, and an organisation it fits (issue 9: streamed import).

    .venv/bin/python tests/big_import.py DIR [--rows 2000000] [--sites 4000] [--systems 25]

writes DIR/restore.db (schema, the sites and systems, an HQ IT user `bench`) and DIR/events.csv,
and prints the command that measures the import, e.g.

    /usr/bin/time -v env RESTORE_DATABASE_URL=sqlite:///DIR/restore.db \\
        .venv/bin/python -m restore import DIR/events.csv --as bench

("Maximum resident set size" is the peak memory). tests/test_streamed_import.py uses the same
two functions at a small scale.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from restore import schema  # noqa: E402
from restore.directory import SYSTEM, add_user  # noqa: E402
from restore.store import Store, branch_systems, branches, now_utc, systems  # noqa: E402

# A legal recovery cycle, over and over: restored -> outage is allowed (any state may go
# to outage), and verifying -> restored needs HQ IT, who imports.
CYCLE = ("outage", "investigating", "rebuilding", "verifying", "restored")
HEADER = ("branch", "system", "state", "at", "note")
SPAN = timedelta(days=300)  # inside the year a database without incidents accepts


def site_slugs(sites: int | Sequence[str]) -> list[str]:
    return [f"site-{i:05d}" for i in range(sites)] if isinstance(sites, int) else list(sites)


def system_keys(systems_: int | Sequence[str]) -> list[str]:
    return [f"sys{j}" for j in range(systems_)] if isinstance(systems_, int) else list(systems_)


def write_event_csv(
    path: Path | str,
    sites: int | Sequence[str],
    systems: int | Sequence[str],
    rows: int,
    *,
    end: datetime | None = None,
    last_line: str | None = None,
) -> int:
    """Write `rows` legal status rows to `path`, one line at a time (nothing is held in
    memory), round-robin over every site x system, each system walking CYCLE with its
    effective times rising to `end` (default an hour ago). `sites` and `systems` are
    counts (names site-00000..., sys0...) or the slugs and keys themselves.
    `last_line`, if given, is written as one more line (a bad row, say). Returns the
    number of the file's last line (the header is line 1)."""
    slugs, keys = site_slugs(sites), system_keys(systems)
    pairs = [(s, k) for s in slugs for k in keys]
    per = max(1, math.ceil(rows / len(pairs)))
    step = min(timedelta(hours=1), SPAN / per)
    first = (end or now_utc() - timedelta(hours=1)) - per * step
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for r in range(rows):
            k, (slug, key) = r // len(pairs), pairs[r % len(pairs)]
            at = (first + (k + 1) * step).isoformat(timespec="seconds")
            note = f"synthetic row {r + 2}" if r % 5 == 0 else ""
            writer.writerow((slug, key, CYCLE[k % len(CYCLE)], at, note))
        if last_line is not None:
            f.write(last_line.rstrip("\n") + "\n")
    return rows + 1 + (last_line is not None)


def make_org(store: Store, sites: int | Sequence[str], systems_: int | Sequence[str],
             *, importer: str = "bench") -> None:  # fmt: skip
    """Migrate `store` and give it the sites, the systems (every site has every system) and
    an HQ IT user `importer`, straight into the tables (fast, for thousands of sites)."""
    schema.upgrade(store)
    slugs, keys = site_slugs(sites), system_keys(systems_)
    with store.write() as conn:
        sites_rows = [
            {"name": f"Site {slug}", "slug": slug, "region": f"Region {i % 12}", "is_hq": False}
            for i, slug in enumerate(slugs)
        ]
        b_ids = _ids(conn, branches, sites_rows)
        s_ids = _ids(conn, systems, [{"key": key, "name": f"System {key}"} for key in keys])
        conn.execute(
            insert(branch_systems), [{"branch_id": b, "system_id": s} for b in b_ids for s in s_ids]
        )
    add_user(store, SYSTEM, username=importer, role="hq-it")


def _ids(conn, table, rows: list[dict]) -> list[int]:
    q = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(q, rows).scalars())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--sites", type=int, default=4_000)
    parser.add_argument("--systems", type=int, default=25)
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    db = args.folder / "restore.db"
    if db.exists():
        parser.error(f"{db} exists; give an empty folder")
    store = Store(f"sqlite:///{db}")
    make_org(store, args.sites, args.systems)
    store.dispose()
    csv_path = args.folder / "events.csv"
    write_event_csv(csv_path, args.sites, args.systems, args.rows)
    print(
        f"/usr/bin/time -v env RESTORE_DATABASE_URL=sqlite:///{db} "
        f"{sys.executable} -m restore import {csv_path} --as bench"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
