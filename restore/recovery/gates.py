"""The checklist and dependency gates on a status change, checked inside the writer's
transaction (restore.records calls check() from its move check).

A system type with no checklist items has no checklist gate: the gates start to apply
when HQ IT gives a system type a checklist (load_defaults, or items added in Admin).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from restore.access import Action, Actor, can
from restore.domain import Band, RuleError, band_of


class GateError(RuleError):
    """A move the recovery checklist or a dependency does not allow yet. Nothing was written."""


def gate_of(current: str | None, new: str) -> str | None:
    """Which gate a move passes: "verifying" (into verification), "restored" (from
    recovery back into service), or None (no gate: check-ins, first reports, attacks)."""
    if current is None or new == current:
        return None
    if new == "verifying":
        return "verifying"
    if band_of(new) is Band.IN and band_of(current) is not Band.IN:
        return "restored"
    return None


def problems(conn: Connection, bs_id: int, system: str, gate: str) -> list[str]:
    """What stops a branch system passing `gate` now, in words (empty: it may pass)."""
    from restore.recovery.checklists import missing
    from restore.recovery.depends import waiting_on

    out = []
    left = missing(conn, bs_id, system, gate)
    if left:
        names = "; ".join(f"{i.title} [{i.key}]" for i in left)
        out.append(f"checklist items not ticked: {names}")
    blockers = waiting_on(conn, bs_id)
    if blockers:
        out.append(f"it depends on systems still out of service: {', '.join(blockers)}")
    return out


def check(conn: Connection, actor: Actor, target, change) -> None:
    """Raise GateError naming every missing item and out-of-service dependency, unless
    the move passes no gate or HQ IT overrides it with a reason (kept in the log)."""
    gate = gate_of(target.last.state, change.state)
    if gate is None:
        return
    if (change.reason or "").strip() and can(actor, Action.OVERRIDE):
        return
    found = problems(conn, target.id, target.system, gate)
    if found:
        raise GateError(
            f"{target.branch} {target.system} cannot move to {change.state!r} yet: "
            + "; ".join(found)
            + " (HQ IT may override with a reason)"
        )
