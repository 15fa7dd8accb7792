"""This process's writers to one SQLite file take turns in the order they came
(restore.store.WriteQueue): none is overtaken, so none starves. Real threads, a real SQLite
file; the order of turns and of the log is asserted, never a time."""

import threading
import time

import pytest
from sqlalchemy import select

from restore.directory import SYSTEM
from restore.records import record_status, write_combiner
from restore.store import Store, WriteQueue, events, write_queue

OWN = ["kent", "essex", "surrey", "sussex", "dorset", "gwent", "durham", "norfolk"]


def until(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.001)


def test_turns_go_in_the_order_writers_came():
    queue, order = WriteQueue(), []

    def take(i: int) -> None:
        with queue.turn():
            order.append(i)

    assert queue.acquire(timeout=5)
    threads = []
    for i in range(8):
        threads.append(threading.Thread(target=take, args=(i,)))
        threads[-1].start()
        until(lambda i=i: queue.queued == i + 1, f"writer {i} is queued")
    queue.release()
    for t in threads:
        t.join(30)
    assert order == list(range(8))
    assert queue.acquire(timeout=0)  # the last one gave the turn back


def test_a_writer_that_gives_up_waiting_leaves_the_queue():
    queue, answers = WriteQueue(), []
    assert queue.acquire(timeout=5)
    waiter = threading.Thread(target=lambda: answers.append(queue.acquire(timeout=0.05)))
    waiter.start()
    waiter.join(30)
    assert answers == [False] and queue.queued == 0
    queue.release()
    assert queue.acquire(timeout=0)  # free: the turn was not handed to the one who left


def test_one_queue_per_sqlite_file_and_none_for_postgresql_or_memory(tmp_path):
    a, b = Store(f"sqlite:///{tmp_path / 'x.db'}"), Store(f"sqlite:///{tmp_path}/./x.db")
    assert write_queue(a.engine) is write_queue(b.engine) is not None
    assert write_queue(Store("sqlite://").engine) is None
    assert write_queue(Store("postgresql://nobody@127.0.0.1:1/none").engine) is None
    a.dispose()
    b.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_waiting_writer_writes_once_before_any_writes_twice(fresh_store, db_url):
    """Eight writers queue while the file is held; each then records twice. Every first
    write lands in the order they came, before any second one: nobody is overtaken."""
    stores = [Store(db_url) for _ in OWN]
    queue, failed = write_queue(fresh_store.engine), []
    combiner = write_combiner(fresh_store)

    def writer(i: int, store: Store) -> None:
        try:
            for n in range(2):
                record_status(store, SYSTEM, branch=OWN[i], system="email", state="outage",
                              note=f"{i}/{n}")  # fmt: skip
        except Exception as e:  # reported below, never hidden
            failed.append(repr(e))

    threads = [threading.Thread(target=writer, args=(i, s)) for i, s in enumerate(stores)]
    with fresh_store.write():  # holds the file: every writer has to wait
        for i, t in enumerate(threads):
            t.start()
            # The first leads its batch and queues for the file; the rest wait for the next.
            until(lambda i=i: queue.queued + combiner.queued == i + 1, f"writer {i} is queued")
    for t in threads:
        t.join(60)
    for s in stores:
        s.dispose()
    assert failed == []
    with fresh_store.read() as conn:
        notes = list(conn.execute(select(events.c.note).order_by(events.c.id)).scalars())
    assert notes[:8] == [f"{i}/0" for i in range(8)]
    assert sorted(notes[8:]) == sorted(f"{i}/1" for i in range(8))
