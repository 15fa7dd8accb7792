"""What a status write is made of: its request, the change asked for, the system it
targets, and the errors that refuse it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from restore.domain import RestoreError

MAX_NOTE = 2000
FUTURE_SLACK = timedelta(minutes=5)
# A second identical event from the same user this soon is a double tap, not news.
REPEAT_WINDOW = timedelta(minutes=1)


class ValidationError(RestoreError):
    """Bad input: the message says what and how to fix it. Nothing was written."""


class NotFound(ValidationError):
    """An unknown branch, system, user or incident."""


class ConflictError(RestoreError):
    """Someone else recorded a newer event since the writer last looked."""


class DuplicateSubmission(RestoreError):
    """The same form was sent twice, or the same user said the same thing a moment ago."""


@dataclass(frozen=True)
class Change:
    """One requested status change, before validation."""

    state: str
    at: datetime | None  # None: now, read under the writer's lock
    note: str = ""
    eta: date | None = None
    reason: str | None = None
    source: str = "web"
    actor: str | None = None  # kept from an HQ IT import; else the acting user
    recorded_at: datetime | None = None
    incident: str | None = None
    imported: bool = False  # an HQ IT import keeps who, source and recorded time
    submission: str | None = None  # the form submission's idempotency key


@dataclass(frozen=True)
class Last:
    """What a validator needs to know of a branch system's newest event."""

    id: int = 0
    state: str | None = None
    at: datetime | None = None
    eta: date | None = None
    actor: str = ""
    note: str = ""
    recorded_at: datetime | None = None
    incident_id: int | None = None


@dataclass
class Target:
    """A branch system, resolved from names."""

    id: int
    branch_id: int
    branch: str
    system: str
    since: datetime | None = None
    last: Last = field(default_factory=Last)


@dataclass(frozen=True)
class Request:
    """One system's change as a page or the CLI asks for it."""

    branch: str
    system: str
    change: Change
    seen_event_id: int | None = None  # newest event the writer saw (0: none; None: no check)
    expect: str | None = None  # the state the system must be in now, if any
