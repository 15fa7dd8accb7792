"""Users, branches, systems, incidents: validated, permission-checked, nothing written on error."""

import json
from datetime import date, timedelta

import pytest
from conftest import NOW, snapshot

from restore import audit, queries
from restore.access import PermissionDenied
from restore.directory import (
    SYSTEM,
    actor_for,
    add_branch,
    add_incident,
    add_system,
    add_user,
    password_matches,
    seed_reference,
    set_incident_target,
    set_workaround,
    update_user,
)
from restore.records import NotFound, ValidationError
from restore.store import users


def refused(store, exc, match, fn, *args, **kw):
    """The write raises and changes nothing, not even the audit log."""
    before = snapshot(store), audit.verify(store).checked
    with pytest.raises(exc, match=match):
        fn(store, *args, **kw)
    assert (snapshot(store), audit.verify(store).checked) == before


def audited(store, n: int = 1) -> list[tuple]:
    """The newest n audit entries, oldest first: (actor, action, subject, details)."""
    frame = audit.entries(store, limit=n).iloc[::-1]
    return [(r.actor, r.action, r.subject, json.loads(r.details)) for r in frame.itertuples()]


def test_passwords_are_stored_as_argon2id_hashes(fresh_store):
    add_user(fresh_store, SYSTEM, username="new", role="hq-it", password="long enough pw")
    with fresh_store.read() as conn:
        stored = conn.execute(users.select().where(users.c.username == "new")).one().password_hash
    assert stored.startswith("$argon2id$") and "long enough pw" not in stored
    assert password_matches(stored, "long enough pw")


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"username": "Bad Name", "role": "hq-it"}, "username 'Bad Name' must be"),
        ({"username": "x1", "role": "admin"}, "unknown role 'admin'"),
        ({"username": "x1", "role": "chair"}, "a chair needs --branch"),
        ({"username": "x1", "role": "hq-it", "password": "short"}, "at least 8 characters"),
        ({"username": "wm", "role": "hq-it"}, "user 'wm' already exists"),
        ({"username": "x1", "role": "chair", "branch": "Narnia"}, "unknown branch 'Narnia'"),
    ],
)
def test_bad_users_are_refused(fresh_store, people, kw, match):
    refused(fresh_store, ValidationError, match, add_user, people["it"], **kw)


@pytest.mark.parametrize("who", ["wm", "boss", "anon"])
def test_only_hq_it_manages(fresh_store, people, who):
    for fn, kw in (
        (add_user, {"username": "x1", "role": "hq-it"}),
        (add_branch, {"name": "New", "slug": "new", "region": "Wales"}),
        (add_system, {"key": "phones", "name": "Phones"}),
        (add_incident, {"name": "Third", "started_at": NOW}),
        (set_incident_target, {"name": "Third", "target_date": None}),
        (update_user, {"username": "kent", "active": False}),
    ):
        refused(fresh_store, PermissionDenied, "may not", fn, people[who], **kw)


def test_a_new_system_reaches_every_branch_and_a_new_branch_gets_every_system(fresh_store, people):
    add_system(fresh_store, people["it"], key="phones", name="Phones")
    add_branch(
        fresh_store, people["it"], name="Isle of Man", slug="isle-of-man", region="North West"
    )
    board = queries.board(fresh_store)
    assert len(board) == 45 * 4
    assert set(board[board["slug"] == "isle-of-man"]["system"]) == {
        "website",
        "hub",
        "email",
        "phones",
    }
    refused(
        fresh_store,
        ValidationError,
        "already has that name or slug",
        add_branch,
        people["it"],
        name="isle of man",
        slug="iom",
        region="North West",
    )


def test_role_changes_take_effect_on_the_next_read(fresh_store, people):
    update_user(fresh_store, people["it"], username="wm", role="chair", branch="kent")
    assert actor_for(fresh_store, "wm").branch_id == people["kent"].branch_id
    update_user(fresh_store, people["it"], username="wm", role="leadership")
    moved = actor_for(fresh_store, "wm")
    assert (moved.role, moved.branch_id) == ("leadership", None)
    refused(
        fresh_store,
        ValidationError,
        "a chair needs a branch",
        update_user,
        people["it"],
        username="wm",
        role="chair",
    )


def test_incident_target_moves_and_is_validated(fresh_store, people):
    add_incident(fresh_store, people["it"], name="Attack", started_at=NOW)
    set_incident_target(fresh_store, people["it"], name="Attack", target_date=date(2026, 6, 1))
    assert queries.incidents_frame(fresh_store)["target_date"].tolist() == [date(2026, 6, 1)]
    refused(
        fresh_store,
        ValidationError,
        "before the incident started",
        set_incident_target,
        people["it"],
        name="Attack",
        target_date=NOW.date() - timedelta(days=1),
    )
    refused(
        fresh_store,
        NotFound,
        "unknown incident",
        set_incident_target,
        people["it"],
        name="Nope",
        target_date=None,
    )


def test_chairs_set_their_own_branchs_workaround_only(fresh_store, people):
    set_workaround(
        fresh_store,
        people["wm"],
        branch="west-midlands",
        system="email",
        text="Email wm.temp@example.org",
    )
    board = queries.board(fresh_store)
    assert "Email wm.temp@example.org" in set(board["workaround"])
    refused(
        fresh_store,
        PermissionDenied,
        "own branch",
        set_workaround,
        people["wm"],
        branch="kent",
        system="email",
        text="x",
    )


# --- every write leaves an audit entry with old and new values ------------------


def test_a_replaced_workaround_leaves_the_old_text_in_the_audit_log(fresh_store, people):
    for text in ("Email kent.temp@example.org", "Email help@phish.example", ""):
        set_workaround(
            fresh_store, people["kent"], branch="Kent", system="email", text=text, now=NOW
        )
    log = audited(fresh_store, 3)
    assert {entry[:3] for entry in log} == {("kent", "workaround.set", "kent:email")}
    assert [details for *_, details in log] == [
        {"old": None, "new": "Email kent.temp@example.org"},
        {"old": "Email kent.temp@example.org", "new": "Email help@phish.example"},
        {"old": "Email help@phish.example", "new": None},
    ]


def test_each_kind_of_user_change_is_audited_without_the_password(fresh_store, people):
    it = people["it"]
    update_user(fresh_store, it, username="wm", email="wm@example.org", phone="0121 000 0000")
    update_user(fresh_store, it, username="wm", email="wm2@example.org")
    update_user(fresh_store, it, username="wm", role="chair", branch="kent")
    update_user(fresh_store, it, username="wm", password="a secret password")
    update_user(fresh_store, it, username="wm", active=False)
    log = audited(fresh_store, 5)
    assert [(actor, action, subject) for actor, action, subject, _ in log] == [
        ("it", "user.contact", "wm"),
        ("it", "user.contact", "wm"),
        ("it", "user.role", "wm"),
        ("it", "user.password", "wm"),
        ("it", "user.active", "wm"),
    ]
    assert log[0][3] == {
        "email": {"old": None, "new": "wm@example.org"},
        "phone": {"old": None, "new": "0121 000 0000"},
    }
    assert log[1][3] == {"email": {"old": "wm@example.org", "new": "wm2@example.org"}}
    assert log[2][3] == {
        "old": {"role": "chair", "branch": "west-midlands"},
        "new": {"role": "chair", "branch": "kent"},
    }
    assert "a secret password" not in json.dumps(log) and "argon2" not in json.dumps(log)
    assert log[4][3] == {"old": True, "new": False}


def test_additions_are_audited_with_what_was_added(fresh_store, people):
    it = people["it"]
    add_user(
        fresh_store,
        it,
        username="new.chair",
        role="chair",
        branch="Kent",
        password="long enough pw",
        email="New@Example.org",
        now=NOW,
    )
    add_branch(fresh_store, it, name="Isle of Man", slug="isle-of-man", region="North West")
    add_system(fresh_store, it, key="phones", name="Phones")
    add_incident(fresh_store, it, name="Attack", started_at=NOW, target_date=date(2026, 6, 1))
    set_incident_target(fresh_store, it, name="Attack", target_date=date(2026, 7, 1))
    (user, branch, system, incident, target) = audited(fresh_store, 5)
    assert user == (
        "it",
        "user.add",
        "new.chair",
        {
            "display_name": "new.chair",
            "role": "chair",
            "branch": "kent",
            "active": True,
            "email": "new@example.org",
            "phone": None,
            "password_set": True,
        },
    )
    assert branch[1:] == (
        "branch.add",
        "isle-of-man",
        {"name": "Isle of Man", "region": "North West", "is_hq": False},
    )
    assert system[1:] == ("system.add", "phones", {"name": "Phones"})
    assert incident[1:3] == ("incident.add", "Attack")
    assert incident[3]["target_date"] == "2026-06-01"
    assert target[1:] == ("incident.target", "Attack", {"old": "2026-06-01", "new": "2026-07-01"})
    assert audit.verify(fresh_store).ok


def test_seeding_again_adds_nothing_and_audits_nothing(fresh_store):
    before = audit.verify(fresh_store).checked
    assert seed_reference(fresh_store) == (0, 0)
    assert audit.verify(fresh_store).checked == before
