"""The benchmark's results: the targets they are held against, a printed table, JSON.

Targets are reported, never asserted: the smoke test asserts correctness only.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

READ_NAMES = ("board", "status", "board_as_of", "board_day_before", "change_24h", "progress",
              "progress_by_system", "durations", "segments", "slippage")  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    target: str
    size: str
    db: str
    value: float | None
    limit: float
    met: bool | None  # None: not measured

    def to_json(self) -> dict:
        return self.__dict__.copy()


def _check(target, run, value, limit, below=True) -> Verdict:
    met = None if value is None else (value < limit if below else value <= limit)
    return Verdict(target, run["size"], run["db"], value, limit, met)


def verdicts(runs: list[dict]) -> list[Verdict]:
    """Every target that applies to the runs given."""
    out = []
    for run in runs:
        page, size = run.get("page") or {}, run["size"]
        if size in ("M", "L") and page:
            limit = 0.3 if size == "M" else 1.5
            out.append(_check(f"overview after an unrelated write < {limit} s", run,
                              page.get("after_unrelated_write_s"), limit))  # fmt: skip
        if size == "L" and page:
            out.append(_check("overview first run < 5 s", run, page.get("first_run_s"), 5.0))
        if size in ("M", "L"):
            for name in READ_NAMES:
                r = (run.get("reads") or {}).get(name)
                if not r:
                    continue
                out.append(_check(f"{name} within 2x of its SQL floor", run,
                                  r["read_over_floor"], 2.0, below=False))  # fmt: skip
                out.append(_check(f"{name} faster than naive", run, r["read_over_naive"], 1.0))
        w32 = (run.get("writes") or {}).get("32")
        if w32:
            limit = 50.0 if run["db"] == "postgresql" else 200.0
            out.append(_check(f"write p99 with 32 writers < {limit:.0f} ms", run,
                              w32["p99_ms"], limit))  # fmt: skip
    by = {(r["size"], r["db"]): r for r in runs}
    for (size, db), run in by.items():
        if size != "L" or ("M", db) not in by:
            continue
        m_page, l_page = by[("M", db)].get("page") or {}, run.get("page") or {}
        for key, what in (
            ("first_run_s", "first run"),
            ("after_unrelated_write_s", "after a write"),
        ):
            if m_page.get(key) and l_page.get(key):
                ratio = round(l_page[key] / m_page[key], 2)
                out.append(Verdict(f"overview {what} grows < 3x from M to L", "M->L", db,
                                   ratio, 3.0, ratio < 3.0))  # fmt: skip
    return out


def _load_text(run: dict) -> str:
    if not run.get("load_average_start"):
        return ""
    return (
        f" Load average (1, 5, 15 min): {run['load_average_start']} at the start, "
        f"{run.get('load_average_end')} at the end."
    )


def _mark(met: bool | None) -> str:
    return "not measured" if met is None else "met" if met else "MISSED"


def _s(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def _ms(x) -> str:
    return "-" if x is None else f"{x * 1000:,.1f}"


def table(results: dict) -> str:
    """The results as Markdown tables (readable in a terminal too)."""
    lines = []
    for run in results["runs"]:
        lines += [
            "",
            f"### {run['size']} on {run['db']}: {run['sites']:,} sites x {run['systems']} systems, "
            f"{run['events']:,} events",
            "",
            f"Built in {run['build_s']:.1f} s; read models: {run['readmodels']}." + _load_text(run),
            "",
        ]
        if page := run.get("page"):
            lines += [
                "| overview page (AppTest, HQ IT) | seconds |",
                "|---|---:|",
                f"| first run (empty caches) | {_s(page['first_run_s'])} |",
                f"| rerun, nothing changed | {_s(page['rerun_s'])} |",
                f"| rerun after an unrelated write (a user added) | "
                f"{_s(page['after_unrelated_write_s'])} |",
                f"| rerun after a check-in on one system | {_s(page['after_check_in_s'])} |",
                "",
            ]
        if reads := run.get("reads"):
            lines += [
                "| read | read ms | SQL floor ms | naive ms | read/floor | read/naive | rows "
                "| agree |",
                "|---|---:|---:|---:|---:|---:|---:|---|",
            ]
            for name in READ_NAMES:
                r = reads.get(name)
                if r:
                    lines.append(
                        f"| {name} | {_ms(r['read_s'])} | {_ms(r['floor_s'])} | "
                        f"{_ms(r['naive_s'])} | {r['read_over_floor']} | {r['read_over_naive']} "
                        f"| {r['rows']:,} | {'yes' if r['agree'] else 'NO'} |"
                    )
            lines.append(
                f"\nNaive peers include loading the whole log with pd.read_sql once: "
                f"{_ms(reads['_naive_log_load_s'])} ms."
            )
        if b := run.get("briefing"):
            lines.append(f"\nBriefing draft (publishing.draft): {_ms(b['draft_s'])} ms.")
        if writes := run.get("writes"):
            lines += [
                "",
                "| writers | writes ok | failed | events added | lost | p50 ms | p99 ms | "
                "writes/s | p99 ms, first write of each writer left out | writers / rate ms | "
                "p50 / p99 ms, an engine per writer |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for w in writes.values():
                own = w.get("engine_per_writer")
                lines.append(
                    f"| {w['writers']} | {w['ok']} | {w['failed']} | {w['events_added']} | "
                    f"{w['lost']} | {w['p50_ms']} | {w['p99_ms']} | {w['writes_per_s']} | "
                    f"{w.get('p99_after_first_ms', '-')} | {w.get('writers_over_rate_ms', '-')} | "
                    + (f"{own['p50_ms']} / {own['p99_ms']} |" if own else "- |")
                )
            lines.append(
                "\nThe targets hold p99 ms: the writers share one store, as an app's sessions "
                "do. Writers / rate is the mean latency Little's law gives any closed loop of "
                "that many writers at that throughput. The last column runs the level again "
                "with an engine per writer (the benchmark before 27 Nov; not a target)."
            )
        if imp := run.get("import"):
            sample = " (a sample: the size's full log would take too long)" if imp["sample"] else ""
            lines.append(
                f"\nCSV import: {imp['rows']:,} rows in {imp['seconds']:.1f} s = "
                f"{imp['rows_per_s']:,.0f} rows/s{sample}."
            )
    found = verdicts(results["runs"])
    if found:
        lines += ["", "### Targets", "", "| target | size | database | value | limit | |",
                  "|---|---|---|---:|---:|---|"]  # fmt: skip
        for v in found:
            lines.append(
                f"| {v.target} | {v.size} | {v.db} | {v.value} | {v.limit} | {_mark(v.met)} |"
            )
    return "\n".join(lines) + "\n"


def machine(pg_url: str | None) -> dict:
    """Where the figures were taken."""
    info = {
        "nproc": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": None,
    }
    if pg_url:
        try:
            engine = create_engine(pg_url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                info["postgresql"] = conn.execute(text("SHOW server_version")).scalar()
            engine.dispose()
        except Exception as e:  # unreachable: said so, not fatal
            info["postgresql"] = f"unreachable ({type(e).__name__})"
    for name in ("streamlit", "sqlalchemy", "pandas"):
        with contextlib.suppress(ImportError):
            info[name] = __import__(name).__version__
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def write_json(results: dict, path: str) -> None:
    results = results | {"targets": [v.to_json() for v in verdicts(results["runs"])]}
    Path(path).write_text(json.dumps(results, indent=2, default=str) + "\n")


def merge(paths: list[str]) -> dict:
    """Several JSON results as one (for the M -> L targets across separate runs)."""
    loaded = [json.loads(Path(p).read_text()) for p in paths]
    return {"machine": loaded[0]["machine"], "runs": [r for d in loaded for r in d["runs"]]}
