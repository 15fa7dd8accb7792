"""python -m restore.bench [--sizes S,M] [--db sqlite,postgresql] [--pg-url URL] [--json PATH]"""

from __future__ import annotations

import argparse
import sys
import time

from restore.bench import DEFAULT_PG_URL, PARTS, datasets, report, run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m restore.bench",
        description="Time the overview page, every read model (beside its SQL floor and a "
        "naive pandas peer), the briefing, concurrent writes and the CSV import at sizes "
        "S, M and L on SQLite and PostgreSQL. Prints a table; reports targets, asserts none.",
    )
    p.add_argument("--sizes", default="S,M", help="comma-separated: S, M, L (default S,M)")
    p.add_argument("--db", default="sqlite,postgresql", help="sqlite, postgresql or both")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL,
                   help="a PostgreSQL server to create (and drop) fresh databases on")  # fmt: skip
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--only", default=",".join(PARTS), help=f"parts to run: {','.join(PARTS)}")
    p.add_argument("--repeat", type=int, help="runs per read, best kept (default 3; 1 at L)")
    p.add_argument("--writes", type=int, default=256, help="writes per level (default 256)")
    p.add_argument("--report", nargs="+", metavar="JSON",
                   help="print the table of earlier JSON results; run nothing")  # fmt: skip
    args = p.parse_args(argv)
    if args.report:
        print(report.table(report.merge(args.report)))
        return 0
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    dbs = [d.strip().lower() for d in args.db.split(",") if d.strip()]
    parts = tuple(x.strip() for x in args.only.split(",") if x.strip())
    bad = ([s for s in sizes if s not in datasets.SIZES]
           + [d for d in dbs if d not in ("sqlite", "postgresql")]
           + [x for x in parts if x not in PARTS])  # fmt: skip
    if bad:
        p.error(f"unknown: {', '.join(bad)}")
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:7.1f} s] {msg}", file=sys.stderr, flush=True)

    results = run(
        sizes, dbs, pg_url=args.pg_url, parts=parts, repeat=args.repeat, writes=args.writes, log=log
    )
    if args.json:
        report.write_json(results, args.json)
    print(report.table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
