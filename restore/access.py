"""Roles, actions and the one rule that says who may do what.

Standard library only. Pages hide what a role cannot use, but the core calls
`require()` before every write: hiding a button is not security.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from restore.domain import RestoreError

ROLES: dict[str, str] = {
    "hq-it": "HQ IT",
    "chair": "Branch chair",
    "leadership": "Leadership",
}


class Action(StrEnum):
    READ_BOARD = "read the board"
    READ_NOTES = "read internal notes"
    RECORD_STATUS = "record status"
    RECORD_ON_BEHALF = "record on a branch's behalf"
    OVERRIDE = "override the transition rules"
    IMPORT = "import status from CSV"
    EXPORT = "export the event log"
    MANAGE = "manage branches, systems, users and incidents"
    PUBLISH_BRIEFING = "publish a briefing"
    TICK_CHECKLIST = "tick a recovery checklist item"
    EDIT_CHECKLIST = "edit the recovery checklists"
    READ_EVIDENCE = "download checklist evidence files"
    MANAGE_DEPENDENCIES = "declare dependencies between systems"
    RECORD_CLOCK = "record regulatory and contractual clocks"
    PROPOSE_CLOSE = "propose closing an incident"
    CONFIRM_CLOSE = "confirm closing an incident"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or anonymous (username None)."""

    username: str | None
    role: str | None
    branch_id: int | None = None
    display_name: str = ""

    @property
    def is_anonymous(self) -> bool:
        return self.username is None


ANONYMOUS = Actor(None, None)
BRANCH_SCOPED = frozenset({Action.RECORD_STATUS, Action.TICK_CHECKLIST})

# Role x action. A chair's branch-scoped actions (BRANCH_SCOPED) are further limited to their
# own branch (see can()); everything not listed is refused. Closing an incident takes two
# keys held by different roles: HQ IT proposes, leadership confirms.
_GRANTS: dict[str | None, frozenset[Action]] = {
    "hq-it": frozenset(Action) - {Action.CONFIRM_CLOSE},
    "chair": frozenset(
        {Action.READ_BOARD, Action.READ_NOTES, Action.RECORD_STATUS, Action.TICK_CHECKLIST}
    ),
    "leadership": frozenset(
        {
            Action.READ_BOARD,
            Action.READ_NOTES,
            Action.EXPORT,
            Action.PUBLISH_BRIEFING,
            Action.RECORD_CLOCK,
            Action.CONFIRM_CLOSE,
        }
    ),
    None: frozenset({Action.READ_BOARD}),
}


# Pages of the dashboard and the roles that see them (None: anonymous members).
PAGES: dict[str, frozenset[str | None]] = {
    "overview": frozenset({"hq-it", "leadership"}),
    "my_branch": frozenset({"hq-it", "chair"}),
    "follow_up": frozenset({"hq-it"}),
    "admin": frozenset({"hq-it"}),
    "briefings": frozenset({"hq-it", "leadership"}),
    "public": frozenset({"hq-it", "chair", "leadership", None}),
}


def may_see(actor: Actor, page: str) -> bool:
    return actor.role in PAGES.get(page, frozenset())


class PermissionDenied(RestoreError):
    """The acting user may not do this. Nothing was written."""


def can(actor: Actor, action: Action, *, branch_id: int | None = None) -> bool:
    """May `actor` do `action` (on `branch_id`, for branch-scoped actions)?"""
    if action not in _GRANTS.get(actor.role, frozenset()):
        return False
    if actor.role == "chair" and action in BRANCH_SCOPED:
        return branch_id is not None and branch_id == actor.branch_id
    return True


def require(actor: Actor, action: Action, *, branch_id: int | None = None) -> None:
    """Raise PermissionDenied unless can(); the message names who and what."""
    if can(actor, action, branch_id=branch_id):
        return
    who = actor.username or "anonymous"
    role = ROLES.get(actor.role or "", "no role")
    if actor.role == "chair" and action in BRANCH_SCOPED:
        raise PermissionDenied(f"{who} ({role}) may {action.value} only for their own branch")
    raise PermissionDenied(f"{who} ({role}) may not {action.value}")
