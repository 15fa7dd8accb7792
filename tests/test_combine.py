"""restore.combine.Combiner: jobs that arrive while a batch runs run together as the next
batch, each caller gets its own outcome, and a failure reaches only the callers it concerns.
Real threads; the order of batches is asserted, never a time."""

import signal
import threading
import time

import pytest

from restore.combine import Combiner


def until(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.001)


class Gate:
    """A run function that records its batches and can hold the first one back."""

    def __init__(self) -> None:
        self.batches: list[list] = []
        self.entered, self.go = threading.Event(), threading.Event()
        self.go.set()

    def __call__(self, jobs):
        self.batches.append(list(jobs))
        self.entered.set()
        self.go.wait(30)
        return [ValueError(f"bad {j}") if j < 0 else j * 10 for j in jobs]


def callers(combiner, jobs, answers):
    def call(job):
        try:
            answers[job] = combiner.submit(job)
        except ValueError as e:
            answers[job] = str(e)

    return [threading.Thread(target=call, args=(j,)) for j in jobs]


def held(combiner, gate, first, rest) -> dict:
    """`first` runs as a batch held back by `gate` while each of `rest` queues; then all run.
    Returns each job's answer."""
    answers = {}
    gate.go.clear()
    lead = callers(combiner, [first], answers)[0]
    lead.start()
    until(gate.entered.is_set, "the first batch runs")
    waiting = callers(combiner, rest, answers)
    for n, t in enumerate(waiting, start=1):
        t.start()
        until(lambda n=n: combiner.queued == n, f"{n} callers wait")
    gate.go.set()
    for t in [lead, *waiting]:
        t.join(30)
    return answers


def test_one_caller_at_a_time_runs_alone():
    gate = Gate()
    combiner = Combiner(gate)
    assert [combiner.submit(j) for j in (1, 2, 3)] == [10, 20, 30]
    assert gate.batches == [[1], [2], [3]]


def test_callers_arriving_during_a_batch_run_together_next_each_with_its_own_outcome():
    gate = Gate()
    combiner = Combiner(gate)
    answers = held(combiner, gate, 1, [2, -3, 4, 5])
    assert gate.batches == [[1], [2, -3, 4, 5]]
    assert answers == {1: 10, 2: 20, -3: "bad -3", 4: 40, 5: 50}
    assert combiner.queued == 0 and combiner.submit(6) == 60  # free again


def test_a_batch_is_at_most_the_limit_and_the_rest_follow_in_order():
    gate = Gate()
    combiner = Combiner(gate, limit=2)
    answers = held(combiner, gate, 0, [1, 2, 3, 4, 5])
    assert gate.batches == [[0], [1, 2], [3, 4], [5]]
    assert answers == {j: j * 10 for j in range(6)}


def test_a_run_that_raises_fails_its_batch_only():
    calls = []

    def run(jobs):
        calls.append(list(jobs))
        if len(calls) == 1:
            raise RuntimeError("database gone")
        return [j for j in jobs]

    combiner = Combiner(run)
    with pytest.raises(RuntimeError, match="database gone"):
        combiner.submit(1)
    assert combiner.submit(2) == 2  # the lead was handed back: nobody waits forever


def test_a_run_that_answers_the_wrong_number_of_jobs_is_an_error_not_a_mix_up():
    combiner = Combiner(lambda jobs: [])
    with pytest.raises(RuntimeError, match="0 outcomes for 1 jobs"):
        combiner.submit(1)


class Interrupted(Exception):
    """What a signal raises in a caller waiting for its batch (as Ctrl-C would)."""


def interrupt_after(seconds: float, before=lambda: None):
    """Raise Interrupted in the main thread after `seconds`, once `before()` has run there."""

    def handler(signum, frame):
        before()
        raise Interrupted

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return lambda: (signal.setitimer(signal.ITIMER_REAL, 0), signal.signal(signal.SIGALRM, old))


def held_first():
    """A combiner whose first batch (job 1) runs and is held back by its gate."""
    gate, answers = Gate(), {}
    combiner = Combiner(gate)
    gate.go.clear()
    lead = callers(combiner, [1], answers)[0]
    lead.start()
    until(gate.entered.is_set, "the first batch runs")
    return gate, combiner, answers, lead


def test_a_caller_interrupted_while_it_waits_leaves_the_queue_and_its_job_never_runs():
    gate, combiner, answers, lead = held_first()
    other = callers(combiner, [2], answers)[0]
    other.start()
    until(lambda: combiner.queued == 1, "a second caller waits")
    restore = interrupt_after(0.2)
    try:
        with pytest.raises(Interrupted):
            combiner.submit(3)  # this thread queues behind 2, then is interrupted
    finally:
        restore()
    assert combiner.queued == 1  # 3 left the queue; 2 still waits
    gate.go.set()
    for t in (lead, other):
        t.join(30)
    assert gate.batches == [[1], [2]] and answers == {1: 10, 2: 20}
    assert combiner.submit(4) == 40


def test_a_caller_interrupted_just_as_the_lead_reaches_it_hands_the_lead_on():
    """The lead passed to a caller that is then interrupted: nobody may wait for it."""
    gate, combiner, answers, lead = held_first()

    def lead_reaches_us():  # runs in this thread, inside its wait for the batch
        gate.go.set()
        lead.join(30)  # the first batch is done and has handed its lead to our job

    restore = interrupt_after(0.2, lead_reaches_us)
    try:
        with pytest.raises(Interrupted):
            combiner.submit(3)
    finally:
        restore()
    assert answers == {1: 10} and gate.batches == [[1]]  # 3 never ran
    later = callers(combiner, [4], answers)[0]
    later.start()
    later.join(30)
    assert answers == {1: 10, 4: 40}, "the next caller waited for a lead nobody held"
