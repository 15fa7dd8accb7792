"""Writes that arrive together in one process share one transaction (restore.records'
write combiner, a group commit), yet each is validated on its own: a refused write changes
nothing for the others, two writes to one system both land in order, and the read models
stay equal to a rebuild. Real threads on a real SQLite file and PostgreSQL."""

import threading
import time

from conftest import NOW
from sqlalchemy import select

from restore import readmodels
from restore.directory import add_incident
from restore.readmodels.tables import MODEL_TABLES
from restore.records import (
    ConflictError,
    DuplicateSubmission,
    PermissionDenied,
    find_target,
    record_status,
    write_combiner,
)
from restore.store import Store, events

START = NOW.replace(year=NOW.year - 1)


def until(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.001)


def tables(store) -> dict[str, list[tuple]]:
    with store.read() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in MODEL_TABLES}


def test_writes_arriving_together_share_a_transaction_and_keep_their_own_outcomes(
    fresh_store, people, db_url
):
    add_incident(fresh_store, people["it"], name="Attack", started_at=START)
    it, kent, wm = people["it"], people["kent"], people["wm"]
    jobs = {  # name: (actor, branch, system, state, extra)
        "first": (it, "surrey", "email", "outage", {}),
        "kent": (it, "kent", "email", "outage", {"note": "one"}),
        "not yours": (kent, "essex", "email", "outage", {}),
        "kent again": (it, "kent", "email", "outage", {"note": "two"}),
        "wm": (wm, "west-midlands", "website", "outage", {}),
        "stale": (it, "gwent", "hub", "outage", {"seen_event_id": 999_999}),
        "form": (it, "dorset", "email", "outage", {"submission": "form-1"}),
        "form twice": (it, "dorset", "hub", "outage", {"submission": "form-1"}),
    }
    answers: dict[str, object] = {}
    stores = {name: Store(db_url) for name in jobs}

    def call(name):
        actor, branch, system, state, extra = jobs[name]
        try:
            answers[name] = record_status(stores[name], actor, branch=branch, system=system,
                                          state=state, **extra)  # fmt: skip
        except Exception as e:  # the caller's own outcome, asserted below
            answers[name] = e

    combiner = write_combiner(fresh_store)
    threads = {name: threading.Thread(target=call, args=(name,)) for name in jobs}
    with fresh_store.write() as conn:  # holds the first writer back (file, or its row)
        fresh_store.lock_branch_systems(conn, [find_target(conn, "surrey", "email").id])
        threads["first"].start()
        until(lambda: combiner.queued == 0 and answers == {} and combiner.running,
              "the first writer leads")  # fmt: skip
        for n, name in enumerate(list(jobs)[1:], start=1):
            threads[name].start()
            until(lambda n=n: combiner.queued == n, f"{n} writers wait")
    for t in threads.values():
        t.join(60)
    for s in stores.values():
        s.dispose()

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
    together = {rows[answers[n]].recorded_at for n in ("kent", "wm", "form")}
    assert len(together) == 1
    assert rows[answers["first"]].recorded_at < together.pop()
    kept = tables(fresh_store)
    readmodels.rebuild(fresh_store)
    assert tables(fresh_store) == kept


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
    notes = {"first": ("surrey", "one"), "fine": ("kent", "two"), "boom": ("essex", "boom"),
             "also fine": ("dorset", "three")}  # fmt: skip
    answers: dict[str, object] = {}
    stores = {name: Store(db_url) for name in notes}

    def call(name):
        branch, note = notes[name]
        try:
            answers[name] = record_status(stores[name], it, branch=branch, system="email",
                                          state="outage", note=note)  # fmt: skip
        except Exception as e:  # the caller's own outcome, asserted below
            answers[name] = e

    combiner = write_combiner(fresh_store)
    threads = {name: threading.Thread(target=call, args=(name,)) for name in notes}
    with fresh_store.write() as conn:  # holds the first writer back, so the rest batch up
        fresh_store.lock_branch_systems(conn, [find_target(conn, "surrey", "email").id])
        threads["first"].start()
        until(lambda: combiner.queued == 0 and combiner.running, "the first writer leads")
        for n, name in enumerate(list(notes)[1:], start=1):
            threads[name].start()
            until(lambda n=n: combiner.queued == n, f"{n} writers wait")
    for t in threads.values():
        t.join(60)
    for s in stores.values():
        s.dispose()

    assert "boom refused by the database" in str(answers["boom"])
    assert all(isinstance(answers[n], int) for n in ("first", "fine", "also fine")), answers
    with fresh_store.read() as conn:
        written = dict(conn.execute(select(events.c.id, events.c.note)).all())
    assert written == {answers[n]: notes[n][1] for n in ("first", "fine", "also fine")}
    kept = tables(fresh_store)
    readmodels.rebuild(fresh_store)
    assert tables(fresh_store) == kept
