"""What a run of events changes in the read models: a pure function of the events and
each system's position before them, shared by the incremental path and the rebuild."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from restore.domain import Band, band_of
from restore.readmodels.tables import NO_INCIDENT


@dataclass
class Position:
    """A branch system just before the next event: where the board's pointers stand."""

    system_id: int
    region: str
    state: str | None = None
    incident_id: int = NO_INCIDENT
    eta: date | None = None
    since: datetime | None = None
    note_event_id: int | None = None


@dataclass(frozen=True)
class Event:
    id: int
    bs_id: int
    state: str
    at: datetime
    day: date  # the London date of `at`
    eta: date | None
    incident_id: int | None
    has_note: bool


@dataclass
class Changes:
    """Rows to add to each read model (see restore.readmodels.tables)."""

    days: Counter = field(default_factory=Counter)
    spans: list[dict] = field(default_factory=list)
    opens: list[dict] = field(default_factory=list)
    closes: list[dict] = field(default_factory=list)  # outages opened before this run
    etas: list[dict] = field(default_factory=list)
    board: dict[tuple[int, date], dict] = field(default_factory=dict)
    touched: set[tuple[int, int]] = field(default_factory=set)
    topics: set[tuple[str, str]] = field(default_factory=set)
    _open: dict[int, dict] = field(default_factory=dict)

    def flushed(self) -> None:
        """Forget the rows written (the day counts stay: callers flush them last)."""
        self.spans, self.opens, self.closes, self.etas = [], [], [], []
        self.board, self._open = {}, {}


def _in_service(state: str | None) -> bool:
    return state is not None and band_of(state) is Band.IN


def step(pos: Position, e: Event, out: Changes) -> None:
    """Account for one event and move `pos` past it."""
    incident = e.incident_id or NO_INCIDENT
    if (pos.state, pos.incident_id) != (e.state, incident):
        out.days[(e.day, pos.system_id, pos.region, incident, e.state)] += 1
        if pos.state is not None:
            out.days[(e.day, pos.system_id, pos.region, pos.incident_id, pos.state)] -= 1
        out.spans.append(
            {"event_id": e.id, "bs_id": e.bs_id, "started_at": e.at, "state": e.state,
             "incident_id": incident, "prev_state": pos.state,
             "prev_incident_id": pos.incident_id if pos.state is not None else None}
        )  # fmt: skip
        out.topics.add(("state", pos.region))
    _outage(pos, e, out)
    if e.eta is not None and pos.eta is not None and e.eta != pos.eta:
        out.etas.append(
            {"event_id": e.id, "bs_id": e.bs_id, "at": e.at, "from_eta": pos.eta, "to_eta": e.eta}
        )
        out.topics.add(("eta", pos.region))
    if pos.state != e.state:
        pos.since = e.at
    if e.has_note:
        pos.note_event_id = e.id
    pos.state, pos.incident_id, pos.eta = e.state, incident, e.eta
    out.board[(e.bs_id, e.day)] = {
        "bs_id": e.bs_id, "day": e.day, "event_id": e.id, "since": pos.since,
        "note_event_id": pos.note_event_id,
    }  # fmt: skip
    if incident != NO_INCIDENT:
        out.touched.add((incident, e.bs_id))
    out.topics.add(("event", pos.region))


def _outage(pos: Position, e: Event, out: Changes) -> None:
    """An episode opens when a system leaves service (or is first reported out of it) and
    closes at its next return to service."""
    was_up, up = _in_service(pos.state), _in_service(e.state)
    if not up and (pos.state is None or was_up):
        row = {"bs_id": e.bs_id, "down_at": e.at, "restored_at": None}
        out.opens.append(row)
        out._open[e.bs_id] = row
    elif up and pos.state is not None and not was_up:
        row = out._open.pop(e.bs_id, None)
        if row is not None:
            row["restored_at"] = e.at
        else:
            out.closes.append({"b_bs": e.bs_id, "b_at": e.at})
