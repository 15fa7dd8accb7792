"""Combining: concurrent callers' jobs run together, one batch at a time (group commit).

Thirty-two people saving at once each paid for a whole transaction: its round trips, its
row locks on shared counters, its commit. A `Combiner` lets the first caller lead: it
runs every job queued so far as one batch, hands each caller its own outcome, and passes
the lead to the next waiting caller, so no caller runs more than two batches' worth of
others' work before its own result comes back. Nobody waits on a timer: a batch is simply
whatever queued while the previous one ran.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Job = TypeVar("Job")
Outcome = object  # a job's result, or the exception it raised

BATCH_MAX = 64
log = logging.getLogger(__name__)


@dataclass(eq=False)  # slots are told apart by identity
class _Slot(Generic[Job]):
    job: Job
    ready: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    outcome: Outcome = None

    def result(self) -> object:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


class Combiner(Generic[Job]):
    """Run `run(jobs)` for batches of concurrent callers' jobs; each caller gets its own.

    `run` returns one outcome per job, in order: a result, or the exception to raise in
    that job's caller. If `run` itself raises, every job of that batch raises it. `after`
    (jobs, outcomes), if given, runs once per batch in the leader, after the others have
    their outcomes and the lead has passed on: follow-up work nobody need wait for.
    """

    def __init__(
        self,
        run: Callable[[Sequence[Job]], list[Outcome]],
        limit: int = BATCH_MAX,
        after: Callable[[Sequence[Job], list[Outcome]], None] | None = None,
    ):
        self._run, self._limit, self._after = run, limit, after
        self._mutex = threading.Lock()
        self._queue: list[_Slot[Job]] = []
        self._busy = False

    @property
    def queued(self) -> int:
        """How many jobs wait for a batch (the running batch's are no longer queued)."""
        return len(self._queue)

    @property
    def running(self) -> bool:
        """A batch is running (or its leader is about to take it)."""
        return self._busy

    def submit(self, job: Job) -> object:
        """Run `job` (alone or with others queued meanwhile); its result, or raise its error."""
        slot = _Slot(job)
        with self._mutex:
            self._queue.append(slot)
            lead, self._busy = not self._busy, True
        if not lead:
            try:
                slot.ready.wait()
            except BaseException:  # interrupted: leave the queue, passing on a lead handed over
                self._leave(slot)
                raise
            if slot.done:
                return slot.result()
        self._lead()
        return slot.result()

    def _leave(self, slot: _Slot[Job]) -> None:
        """Take an interrupted caller's job out of the queue (if no batch took it yet); if the
        lead had been handed to it, hand it on, so nobody waits for a leader who left."""
        with self._mutex:
            if not any(s is slot for s in self._queue):
                return  # a batch took it: that batch's leader answers it
            self._queue = [s for s in self._queue if s is not slot]
            if slot.ready.is_set():  # it was to lead the next batch
                if self._queue:
                    self._queue[0].ready.set()
                else:
                    self._busy = False

    def _lead(self) -> None:
        """Run the queue's head (our own job first) as one batch, then pass the lead on."""
        with self._mutex:
            batch, self._queue = self._queue[: self._limit], self._queue[self._limit :]
        try:
            outcomes = self._run([s.job for s in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} jobs")
        except BaseException as e:
            outcomes = [e] * len(batch)
        for s, outcome in zip(batch, outcomes, strict=True):
            s.outcome, s.done = outcome, True
            s.ready.set()
        with self._mutex:
            if self._queue:
                self._queue[0].ready.set()  # not done: it leads the next batch
            else:
                self._busy = False
        if self._after is not None:
            try:
                self._after([s.job for s in batch], outcomes)
            except Exception:  # the batch's outcomes stand; the follow-up is only logged
                log.exception("follow-up of a batch of %d jobs failed", len(batch))
