"""Reference data and the demo story: complete, legal, deterministic, never in the future."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import NOW, snapshot
from sqlalchemy import select

from restore import queries, schema, timelines
from restore.demo import (
    BRANCH_INCIDENT,
    DEMO_PASSWORDS,
    HQ_INCIDENT,
    build_story,
    default_start,
    seed_demo,
)
from restore.directory import actor_for, password_matches, seed_reference
from restore.domain import replay
from restore.records import ValidationError
from restore.store import Store, branches, incidents, users
from restore.transfer import export_rows


@pytest.fixture
def demo_store(fresh_store):
    """The demo with day 0 eight weeks before NOW."""
    seed_demo(fresh_store, start=default_start(NOW.date()), now=NOW)
    return fresh_store


def test_reference_data_has_43_branches_and_hq_with_three_systems(fresh_store):
    board = queries.board(fresh_store)
    assert board["branch"].nunique() == 44
    assert board[board["is_hq"]]["branch"].unique().tolist() == ["Headquarters"]
    assert sorted(board["system"].unique()) == ["email", "hub", "website"]
    assert set(board["region"]) >= {"Wales", "London", "West Midlands", "North East"}
    assert seed_reference(fresh_store) == (0, 0)


def test_demo_logs_are_legal_and_nothing_is_after_now(demo_store):
    rows = export_rows(demo_store, actor_for(demo_store, "hq.it"))
    assert len(rows) > 1000
    assert max(r["at"] for r in rows) <= NOW.isoformat()
    per_system: dict = {}
    for r in rows:
        per_system.setdefault((r["branch"], r["system"]), []).append(r["state"])
    assert all(replay(states) == [] for states in per_system.values())
    assert not any(r["reason"] for r in rows)  # the story needs no overrides


def test_demo_is_mid_recovery_with_stale_and_overdue_items(demo_store):
    board = queries.board(demo_store)
    in_service = (board["band"] == "in service").sum()
    assert 0.5 * len(board) < in_service < len(board)
    assert not queries.stale(board, NOW).empty
    assert not queries.overdue(board, NOW).empty
    assert (board["state"] == "degraded").any()
    assert timelines.durations(demo_store)["restored_at"].notna().sum() > 50


def test_demo_has_a_reinfected_branch_and_slipped_dates(demo_store):
    d = timelines.durations(demo_store)
    assert (d.groupby(["branch", "system"]).size() > 1).any()  # lost again after restoration
    rows = export_rows(demo_store, actor_for(demo_store, "hq.it"))
    etas: dict = {}
    for r in rows:
        if r["eta"]:
            etas.setdefault((r["branch"], r["system"]), set()).add(r["eta"])
    assert sum(len(v) > 1 for v in etas.values()) > 10


def test_demo_users_one_per_role_sign_in_with_the_readme_passwords(demo_store):
    with demo_store.read() as conn:
        rows = {r.username: r for r in conn.execute(select(users))}
    for name, (role, _branch, _display, password) in DEMO_PASSWORDS.items():
        assert rows[name].role == role and password_matches(rows[name].password_hash, password)
        assert not password_matches(rows[name].password_hash, password + "x")
    assert actor_for(demo_store, "chair.west-midlands").branch_id == _branch_id(demo_store)
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert all(p[3] in readme for p in DEMO_PASSWORDS.values())


def _branch_id(store):
    with store.read() as conn:
        return conn.execute(
            select(branches.c.id).where(branches.c.slug == "west-midlands")
        ).scalar()


def test_incident_target_is_90_days_after_day_0(demo_store):
    with demo_store.read() as conn:
        found = conn.execute(select(incidents).order_by(incidents.c.started_at)).all()
    day0 = default_start(NOW.date())
    assert [i.target_date for i in found] == [day0 + timedelta(days=90)] * 2
    assert found[0].started_at.astimezone(UTC).hour in (18, 19)  # 19:00 London


def test_seeding_the_demo_twice_is_refused_unless_forced(demo_store):
    before = snapshot(demo_store)
    with pytest.raises(ValidationError, match="already holds events"):
        seed_demo(demo_store, start=default_start(NOW.date()), now=NOW)
    assert snapshot(demo_store) == before


def test_story_is_deterministic_for_a_start_date():
    day0 = datetime(2019, 3, 9, 19, tzinfo=UTC)
    args = (["hq", "kent", "gwent", "lancashire"], ["website", "hub", "email"], day0)
    assert build_story(*args, NOW) == build_story(*args, NOW)


def test_real_dates_replay_in_full(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'real.db'}")
    schema.upgrade(store)
    seed_demo(store, start=date(2019, 3, 9), now=NOW)
    p = queries.progress(store, until=datetime(2019, 7, 1, tzinfo=UTC))
    assert p.loc[date(2019, 3, 22), "out of service"] > 60  # the day after the branch attack
    assert p.iloc[-1]["in service"] == len(queries.board(store))  # all back by July 2019
    store.dispose()


def test_demo_story_uses_checklists_dependencies_clocks_and_a_closed_incident(demo_store):
    from restore import recovery

    on = {(d["system"], d["on"]) for d in recovery.dependencies(demo_store)}
    assert ("kent:email", "hq:email") in on and ("kent:website", "kent:hub") in on
    clocks = {(c.incident, c.title): c for c in recovery.list_clocks(demo_store, now=NOW)}
    ico = clocks[(HQ_INCIDENT, "ICO: personal-data breach report (72 hours)")]
    assert (ico.state, ico.met_by, ico.reference) == ("met", "leader", "IC-204871-K3P9")
    kent_hub = recovery.checklist(demo_store, branch="kent", system="hub")
    assert [i["done"] for i in kent_hub] == [True, True, False, False, False, False]
    assert recovery.blocked_by(demo_store)["kent:website"] == ["kent:hub"]
    hq_email = recovery.checklist(demo_store, branch="hq", system="email")
    assert all(i["done"] for i in hq_email)
    assert hq_email[-1]["ticks"][-1]["files"][0]["name"] == "forensic-clearance-hq-email.txt"
    closed = {s.name: s for s in recovery.incident_statuses(demo_store)}[HQ_INCIDENT]
    assert (closed.state, closed.proposed_by, closed.confirmed_by) == ("closed", "hq.it", "leader")
    assert recovery.open_incidents(demo_store) == [BRANCH_INCIDENT]
    report = recovery.final_report(demo_store, incident=HQ_INCIDENT).decode()
    assert "## Lessons learned" in report and "Quarterly restore drill" in report
