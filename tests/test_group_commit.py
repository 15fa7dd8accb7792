"""Writes that arrive together in one process share one transaction (restore.records'
write combiner, a group commit), yet each is validated on its own: a refused write changes
nothing for the others, two writes to one system both land in order, a write gated on
another system sees that system's earlier write, and the read models stay equal to a
rebuild. Real threads on a real SQLite file and PostgreSQL."""

import threading
import time
from collections import deque
from datetime import timedelta

from conftest import NOW, _copy_template
from sqlalchemy import event, func, select

from restore import readmodels, records
from restore.directory import SYSTEM as SYSTEM_ACTOR
from restore.directory import add_incident
from restore.domain import legal_next_states
from restore.readmodels.tables import MODEL_TABLES
from restore.records import (
    Change,
    ConflictError,
    DuplicateSubmission,
    PermissionDenied,
    Request,
    find_target,
    record_status,
    write_combiner,
)
from restore.recovery import depends
from restore.recovery.gates import GateError
from restore.store import Store, branches, events, now_utc

START = NOW.replace(year=NOW.year - 1)
HELD = ("surrey", "email")  # the first writer's system: held, so the others queue behind it


def until(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.001)


def tables(store) -> dict[str, list[tuple]]:
    with store.read() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in MODEL_TABLES}


def together(fresh_store, db_url, writes: dict) -> dict[str, object]:
    """Run `writes` (name -> {record_status keywords, "actor"}) from threads of their own:
    the first (on HELD) leads a batch held back by a lock on its system, so all the others
    queue meanwhile and are written as the next batch. Returns each one's id or error."""
    answers: dict[str, object] = {}
    stores = {name: Store(db_url) for name in writes}

    def call(name):
        kw = dict(writes[name])
        try:
            answers[name] = record_status(stores[name], kw.pop("actor"), **kw)
        except Exception as e:  # the caller's own outcome, asserted by the tests
            answers[name] = e

    combiner = write_combiner(fresh_store)
    threads = {name: threading.Thread(target=call, args=(name,)) for name in writes}
    first, *rest = writes
    with fresh_store.write() as conn:  # holds the first writer back (the file, or its row)
        fresh_store.lock_branch_systems(conn, [find_target(conn, *HELD).id])
        threads[first].start()
        until(lambda: combiner.queued == 0 and combiner.running and not answers,
              "the first writer leads")  # fmt: skip
        for n, name in enumerate(rest, start=1):
            threads[name].start()
            until(lambda n=n: combiner.queued == n, f"{n} writers wait")
    for t in threads.values():
        t.join(60)
    for s in stores.values():
        s.dispose()
    return answers


def write(actor, branch, system, state, **extra) -> dict:
    return {"actor": actor, "branch": branch, "system": system, "state": state, **extra}


def test_writes_arriving_together_share_a_transaction_and_keep_their_own_outcomes(
    fresh_store, people, db_url
):
    add_incident(fresh_store, people["it"], name="Attack", started_at=START)
    it, kent, wm = people["it"], people["kent"], people["wm"]
    answers = together(fresh_store, db_url, {
        "first": write(it, *HELD, "outage"),
        "kent": write(it, "kent", "email", "outage", note="one"),
        "not yours": write(kent, "essex", "email", "outage"),
        "kent again": write(it, "kent", "email", "outage", note="two"),
        "wm": write(wm, "west-midlands", "website", "outage"),
        "stale": write(it, "gwent", "hub", "outage", seen_event_id=999_999),
        "form": write(it, "dorset", "email", "outage", submission="form-1"),
        "form twice": write(it, "dorset", "hub", "outage", submission="form-1"),
    })  # fmt: skip

    assert isinstance(answers["not yours"], PermissionDenied)
    assert isinstance(answers["stale"], ConflictError)
    assert isinstance(answers["form twice"], DuplicateSubmission)
    landed = ["first", "kent", "kent again", "wm", "form"]
    assert all(isinstance(answers[n], int) for n in landed), answers
    with fresh_store.read() as conn:
        rows = {r.id: r for r in conn.execute(select(events))}
    assert sorted(rows) == sorted(answers[n] for n in landed)  # nothing else was written
    assert rows[answers["kent"]].note == "one" and rows[answers["kent again"]].note == "two"
    assert answers["kent"] < answers["kent again"]  # one system's writes stay in order
    assert rows[answers["form"]].submission == "form-1"
    # One transaction: the writers that waited together were recorded at one moment.
    together_at = {rows[answers[n]].recorded_at for n in ("kent", "wm", "form")}
    assert len(together_at) == 1
    assert rows[answers["first"]].recorded_at < together_at.pop()
    kept = tables(fresh_store)
    readmodels.rebuild(fresh_store)
    assert tables(fresh_store) == kept


def test_a_form_sent_twice_is_recorded_once_even_when_the_first_copy_was_refused(
    fresh_store, people, db_url
):
    """The second copy waits for the first copy's batch, so it is refused only if the first
    was recorded: here the first was stale, so the second is the one recorded."""
    it = people["it"]
    add_incident(fresh_store, it, name="Attack", started_at=START)
    answers = together(fresh_store, db_url, {
        "first": write(it, *HELD, "outage"),
        "stale copy": write(it, "kent", "email", "outage", seen_event_id=999_999,
                            submission="form-2"),
        "good copy": write(it, "kent", "email", "outage", seen_event_id=0, submission="form-2"),
    })  # fmt: skip
    assert isinstance(answers["stale copy"], ConflictError)
    assert isinstance(answers["good copy"], int), answers
    with fresh_store.read() as conn:
        recorded = conn.execute(select(events.c.id).where(events.c.submission == "form-2"))
        assert list(recorded.scalars()) == [answers["good copy"]]


def _walk_to(store, actor, branch, system, goal: str, at) -> None:
    """Record the shortest legal path of states that ends in `goal`, an hour apart."""
    paths, seen = deque([[]]), set()
    while paths:
        path = paths.popleft()
        if path and path[-1] == goal:
            break
        for state in legal_next_states(path[-1] if path else None):
            if state not in seen:
                seen.add(state)
                paths.append([*path, state])
    for n, state in enumerate(path):
        record_status(store, actor, branch=branch, system=system, state=state,
                      at=at + timedelta(hours=n), now=now_utc())  # fmt: skip


def test_a_write_gated_on_another_system_sees_that_systems_write_in_the_same_batch(
    fresh_store, people, db_url
):
    """Kent's hub waits on Kent's website. The website goes down and the hub is marked
    restored at the same moment: the hub's gate must see the website down, as it would
    one write after the other, not the website as it stood before the batch."""
    it = people["it"]
    add_incident(fresh_store, it, name="Attack", started_at=START)
    at = now_utc() - timedelta(days=2)
    _walk_to(fresh_store, it, "kent", "hub", "verifying", at)
    _walk_to(fresh_store, it, "kent", "website", "operational", at)
    assert depends.add(fresh_store, it, branch="kent", system="hub", on="kent:website")
    answers = together(fresh_store, db_url, {
        "first": write(it, *HELD, "outage"),
        "website down": write(it, "kent", "website", "outage"),
        "hub restored": write(it, "kent", "hub", "restored"),
    })  # fmt: skip
    assert isinstance(answers["website down"], int), answers
    assert isinstance(answers["hub restored"], GateError), answers
    assert "kent:website" in str(answers["hub restored"])


TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON events WHEN NEW.note = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'boom refused by the database'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.note = 'boom' THEN RAISE EXCEPTION 'boom refused by the database'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON events FOR EACH ROW "
        "EXECUTE FUNCTION refuse_boom()",
    ],
}


def test_a_batch_the_database_refuses_is_written_again_one_write_at_a_time(
    fresh_store, people, db_url
):
    """A failure no check foresaw (here a trigger) sinks the shared transaction; each write
    is then tried alone, so only the one the database refuses fails."""
    with fresh_store.write() as conn:
        for sql in TRIGGERS[fresh_store.dialect]:
            conn.exec_driver_sql(sql)
    it = people["it"]
    notes = {"first": "one", "fine": "two", "boom": "boom", "also fine": "three"}
    answers = together(fresh_store, db_url, {
        "first": write(it, *HELD, "outage", note="one"),
        "fine": write(it, "kent", "email", "outage", note="two"),
        "boom": write(it, "essex", "email", "outage", note="boom"),
        "also fine": write(it, "dorset", "email", "outage", note="three"),
    })  # fmt: skip
    assert "boom refused by the database" in str(answers["boom"])
    assert all(isinstance(answers[n], int) for n in ("first", "fine", "also fine")), answers
    with fresh_store.read() as conn:
        written = dict(conn.execute(select(events.c.id, events.c.note)).all())
    assert written == {answers[n]: notes[n] for n in ("first", "fine", "also fine")}
    kept = tables(fresh_store)
    readmodels.rebuild(fresh_store)
    assert tables(fresh_store) == kept


def _statements_of(store, requests) -> list[tuple[str, int]]:
    """Each statement one write of `requests` sends, with its largest number of parameters."""
    sent: list[tuple[str, int]] = []

    def seen(conn, cursor, statement, params, context, executemany):
        many = params if executemany else [params]
        sent.append((statement, max((len(p) for p in many if p), default=0)))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        records.write(store, SYSTEM_ACTOR, requests)
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    return sent


def test_a_group_commit_sends_the_same_statements_whatever_its_size_on_postgresql(
    pg_url, templates
):
    """Every statement's text stays the same for 2 writes to one system or 12 to three
    (lists of branches and of systems go as one array, ids are drawn before an executemany),
    and none binds more than the 50 parameters psycopg keeps parsed: a text per batch size
    was parsed afresh by psycopg and planned afresh by the server on every group commit, a
    third of its time."""
    _copy_template(pg_url, templates)
    store = Store(pg_url)
    try:
        add_incident(store, SYSTEM_ACTOR, name="Attack", started_at=START)
        with store.read() as conn:
            slugs = conn.execute(select(branches.c.slug).order_by(branches.c.id)).scalars().all()
        out = Change("outage", None, "down")
        two = _statements_of(store, [Request(s, "email", out, None) for s in slugs[:2]])
        twelve = _statements_of(store, [
            Request(s, ("email", "website", "hub")[i % 3], out, None)
            for i, s in enumerate(slugs[2:14])
        ])  # fmt: skip
        with store.read() as conn:
            written = conn.execute(select(func.count()).select_from(events)).scalar_one()
    finally:
        store.dispose()
    assert written == 14
    assert [text for text, _ in two] == [text for text, _ in twelve]
    assert max(n for _, n in twelve) <= 50, [(t[:60], n) for t, n in twelve if n > 50]
