"""States, bands and the transition table: the rules of a branch system's recovery.

Pure Python, no I/O: every writer (web form, CLI, CSV import) asks this module
"may this system go from X to Y?" and gets one answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Band(StrEnum):
    """The three groups that progress charts count."""

    OUT = "out of service"
    RECOVERING = "recovering"
    IN = "in service"


@dataclass(frozen=True)
class State:
    id: str
    label: str
    band: Band


STATES: dict[str, State] = {
    s.id: s
    for s in (
        State("operational", "Operational (not affected)", Band.IN),
        State("outage", "Outage", Band.OUT),
        State("contained", "Contained (disconnected to stop the spread)", Band.OUT),
        State("investigating", "Investigating", Band.RECOVERING),
        State("rebuilding", "Rebuilding / restoring from backup", Band.RECOVERING),
        State(
            "verifying",
            "Verifying (security checks before reconnecting)",
            Band.RECOVERING,
        ),
        State("restored", "Restored", Band.IN),
        State("degraded", "Degraded (in service with known problems)", Band.IN),
    )
}
STATE_IDS: tuple[str, ...] = tuple(STATES)
BANDS: tuple[Band, ...] = (Band.OUT, Band.RECOVERING, Band.IN)

_ATTACK = {"outage", "contained"}
# The transition table. Keys are the current state (None: no event yet); values
# are the states a system may move to next. Recording the same state again is a
# check-in and always legal, so it is not listed here.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    # First report: anything but `restored`, which needs HQ's verification first.
    None: frozenset(STATE_IDS) - {"restored"},
    # Never affected, or back in service: only a new attack or known problems.
    "operational": frozenset(_ATTACK | {"degraded"}),
    "restored": frozenset(_ATTACK | {"degraded"}),
    "degraded": frozenset(_ATTACK | {"restored"}),
    # Out of service: start (or skip ahead on) the recovery path.
    "outage": frozenset(_ATTACK | {"investigating", "rebuilding", "verifying"}),
    "contained": frozenset(_ATTACK | {"investigating", "rebuilding", "verifying"}),
    # The recovery path runs forward; only `verifying` leads back into service.
    "investigating": frozenset(_ATTACK | {"rebuilding", "verifying"}),
    "rebuilding": frozenset(_ATTACK | {"verifying"}),
    # Checks passed (restored, or degraded: up with known problems) or failed (rebuild again).
    "verifying": frozenset(_ATTACK | {"restored", "degraded", "rebuilding"}),
}


# One plain sentence per state: what happens next, and who acts (shown beside each system).
NEXT_STEP: dict[str | None, str] = {
    None: "Not reported yet: the branch chair records how it is now.",
    "operational": "Working and never affected: nothing to do unless it breaks.",
    "outage": "Down: the branch chair records when investigation starts.",
    "contained": "Disconnected to stop the spread: the branch chair records when investigation "
    "starts.",
    "investigating": "Being investigated: the branch chair records when rebuilding starts.",
    "rebuilding": "Being rebuilt: the branch chair marks it ready for HQ IT's checks when it is "
    "back up.",
    "verifying": "Waiting for HQ IT's security checks: HQ IT restores it or sends it back to "
    "rebuilding.",
    "restored": "Back in service and checked by HQ IT: nothing to do unless it breaks.",
    "degraded": "Working with known problems: HQ IT marks it restored once they are fixed.",
}
# What a chair may say about a system waiting for HQ IT's checks: it broke again.
BROKE_AGAIN = ("outage", "contained", "rebuilding")


def next_step(state: str | None) -> str:
    return NEXT_STEP[state]


def needs_hq(current: str | None, new: str) -> bool:
    """Two keys: a chair's `verifying` means "back up, awaiting HQ's checks".

    Only HQ IT records `restored`, or passes a system from `verifying` back into
    service, so every restored system was verified by HQ.
    """
    if new == current:
        return False
    return new == "restored" or (current == "verifying" and band_of(new) is Band.IN)


class RestoreError(Exception):
    """A refusal the user can act on; its message is shown as it is."""


class RuleError(RestoreError):
    """A move the transition table does not allow."""


# Control characters other than tab and newline: PostgreSQL refuses NUL, SQLite keeps it, and
# none belongs in a note. Refused alike on every database, so both accept the same data.
_CONTROL = frozenset(chr(c) for c in (*range(0, 32), 127)) - {"\t", "\n"}


def control_characters(text: str) -> list[str]:
    """The control characters in `text` (other than tab and newline), as U+ codes."""
    return sorted({f"U+{ord(c):04X}" for c in text if c in _CONTROL})


def text_problem(field: str, text: str | None) -> str | None:
    """A message if `text` holds control characters, else None."""
    found = control_characters(text or "")
    if not found:
        return None
    return f"{field} contains control characters ({', '.join(found)}); remove them"


def band_of(state: str) -> Band:
    return STATES[state].band


def label_of(state: str) -> str:
    return STATES[state].label


def legal_next_states(current: str | None) -> list[str]:
    """States a system in `current` may be recorded in next, in table order (check-in first)."""
    allowed = TRANSITIONS[current]
    nxt = [s for s in STATE_IDS if s in allowed and s != current]
    return ([current] if current else []) + nxt


def is_legal(current: str | None, new: str) -> bool:
    return new == current or new in TRANSITIONS[current]


def check_transition(current: str | None, new: str) -> None:
    """Raise RuleError naming the legal next states if `current` -> `new` is not allowed."""
    if new not in STATES:
        raise RuleError(f"unknown state {new!r}; states are: {', '.join(STATE_IDS)}")
    if is_legal(current, new):
        return
    legal = ", ".join(legal_next_states(current))
    where = f"from {current!r}" if current else "as a first report"
    raise RuleError(f"cannot move {where} to {new!r}; legal next states: {legal}")


def replay(states: list[str]) -> list[str]:
    """The moves in a sequence of recorded states that the table forbids (for audits)."""
    bad, current = [], None
    for s in states:
        if not is_legal(current, s):
            bad.append(f"{current}->{s}")
        current = s
    return bad
