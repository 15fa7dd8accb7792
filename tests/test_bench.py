"""The benchmark at size S as a smoke test: every measurement present, every read agreeing
with its SQL floor and naive peer, no write lost. Times are never asserted."""

import json
import random
from datetime import UTC, datetime

import pytest
from conftest import PG_ADMIN_URL, PG_OK

from restore.bench import __main__ as cli
from restore.bench import datasets, report
from restore.domain import replay

PAGE = ("first_run_s", "rerun_s", "after_unrelated_write_s", "after_check_in_s")
READ = ("read_s", "floor_s", "naive_s", "read_over_floor", "read_over_naive", "rows")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    if request.param == "postgresql" and not PG_OK:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    return request.param


def test_every_synthetic_system_walks_a_legal_recovery_cycle():
    clock = datasets.Clock.around(datetime(2026, 6, 1, tzinfo=UTC))
    rows = datasets.plan_events(datasets.SIZES["S"], clock)
    assert len(rows) == datasets.SIZES["S"].events
    per_system: dict[int, list[str]] = {}
    for bs, state, at, *_ in rows:
        per_system.setdefault(bs, []).append(state)
        assert clock.start - datasets.SPAN < at <= clock.now
    assert len(per_system) == datasets.SIZES["S"].pairs
    assert all(replay(states) == [] for states in per_system.values())
    walked = datasets.walk(random.Random(1), 200, clock.start, clock.now)
    assert {"restored", "verifying", "rebuilding"} <= {w[0] for w in walked}
    assert any(w[4] for w in walked)  # expected dates set and moved


def test_s_benchmark_measures_everything_and_reads_agree_with_their_peers(db, tmp_path):
    path = tmp_path / "bench.json"
    args = ["--sizes", "S", "--db", db, "--pg-url", PG_ADMIN_URL, "--repeat", "1",
            "--writes", "32", "--json", str(path)]  # fmt: skip
    assert cli.main(args) == 0
    results = json.loads(path.read_text())
    (run,) = results["runs"]
    assert (run["size"], run["db"], run["events"]) == ("S", db, 2000)
    page = run["page"]
    assert page["page"] == "Where are we?" and page["exception"] == []
    assert all(page[k] > 0 for k in PAGE)
    for name in report.READ_NAMES:
        read = run["reads"][name]
        assert all(read[k] is not None for k in READ), name
        assert read["agree"], (name, read.get("detail"))
    assert run["briefing"]["draft_s"] > 0
    assert set(run["writes"]) == {"1", "8", "32"}
    for level in run["writes"].values():
        assert level["failed"] == 0, level["errors"]
        assert level["lost"] == 0 and level["events_added"] == level["ok"] == level["attempted"]
        assert level["p99_ms"] >= level["p50_ms"] > 0
        own = level["engine_per_writer"]  # the level again, an engine per writer
        assert own["lost"] == 0 and own["ok"] == level["attempted"], own
    imported = run["import"]
    assert imported["rows"] == imported["stored"] == 2000 and imported["rows_per_s"] > 0
    assert {"target", "size", "db", "value", "limit", "met"} <= set(results["targets"][0])
    assert results["machine"]["nproc"] >= 1


def test_targets_are_marked_met_or_missed_and_compare_m_with_l():
    def run(size, after, p99):
        return {"size": size, "db": "sqlite", "page": {"first_run_s": 1.0,
                "after_unrelated_write_s": after}, "writes": {"32": {"p99_ms": p99}}}  # fmt: skip

    found = {
        (v.target, v.size): v.met for v in report.verdicts([run("M", 0.2, 250), run("L", 1.0, 50)])
    }
    assert found[("overview after an unrelated write < 0.3 s", "M")] is True
    assert found[("write p99 with 32 writers < 200 ms", "M")] is False
    assert found[("overview after a write grows < 3x from M to L", "M->L")] is False
    assert found[("overview first run grows < 3x from M to L", "M->L")] is True
