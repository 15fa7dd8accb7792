"""Recovery, not just status: checklist gates with evidence, dependencies, regulatory
clocks and closing the incident (issue 11).

Other code calls these names (pages: one call each); the modules' insides are their own.
restore.records calls restore.recovery.gates.check inside every status write.
"""

from restore.recovery.checklists import (
    Item,
    Tick,
    evidence_file,
    items,
    retire_item,
    save_item,
    tick,
    tick_many,
)
from restore.recovery.checklists import (
    load_defaults as load_default_checklist,
)
from restore.recovery.checklists import (
    progress as checklist_progress,
)
from restore.recovery.checklists import (
    show as checklist,
)
from restore.recovery.clocks import Clock
from restore.recovery.clocks import add as add_clock
from restore.recovery.clocks import listing as list_clocks
from restore.recovery.clocks import met as clock_met
from restore.recovery.clocks import risks as clock_risks
from restore.recovery.closing import (
    ClosingRefused,
    IncidentStatus,
    closed_incidents,
    final_report,
    frozen_figures,
    open_incidents,
    set_reinfection_days,
)
from restore.recovery.closing import (
    confirm as confirm_close,
)
from restore.recovery.closing import (
    criteria as closing_criteria,
)
from restore.recovery.closing import (
    propose as propose_close,
)
from restore.recovery.closing import (
    statuses as incident_statuses,
)
from restore.recovery.depends import (
    CycleError,
    Node,
    blocked_by,
    blockers,
    critical_path,
    forecast_notes,
)
from restore.recovery.depends import (
    add as add_dependency,
)
from restore.recovery.depends import (
    listing as dependencies,
)
from restore.recovery.depends import (
    load_defaults as load_default_dependencies,
)
from restore.recovery.depends import (
    remove as remove_dependency,
)
from restore.recovery.evidence import MAX_BYTES, Evidence
from restore.recovery.gates import GateError

__all__ = [
    "MAX_BYTES",
    "Clock",
    "ClosingRefused",
    "CycleError",
    "Evidence",
    "GateError",
    "IncidentStatus",
    "Item",
    "Node",
    "Tick",
    "add_clock",
    "add_dependency",
    "blocked_by",
    "blockers",
    "checklist",
    "checklist_progress",
    "clock_met",
    "clock_risks",
    "closed_incidents",
    "closing_criteria",
    "confirm_close",
    "critical_path",
    "dependencies",
    "evidence_file",
    "final_report",
    "forecast_notes",
    "frozen_figures",
    "incident_statuses",
    "items",
    "list_clocks",
    "load_default_checklist",
    "load_default_dependencies",
    "open_incidents",
    "propose_close",
    "remove_dependency",
    "retire_item",
    "save_item",
    "set_reinfection_days",
    "tick",
    "tick_many",
]
