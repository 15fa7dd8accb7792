"""Narrowing reads to regions, system types or one incident's systems, over any query
that joins branch_systems (scope() adds the branch and system joins)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.sql import Select

from restore.readmodels.tables import incident_systems
from restore.store import branch_systems, branches, incidents, systems


@dataclass(frozen=True)
class Filters:
    """Narrow any query to regions, system keys, or the systems one incident touched."""

    regions: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    incident: str | None = None

    @property
    def narrows(self) -> bool:
        """Whether these filters leave anything out (none: no join is needed for them)."""
        return bool(self.regions or self.systems or self.incident)

    def apply(self, q: Select, *, touched: bool = True) -> Select:
        """Narrow `q`; touched=False leaves the incident to the caller (counts by event)."""
        if self.regions:
            q = q.where(branches.c.region.in_(self.regions))
        if self.systems:
            q = q.where(systems.c.key.in_(self.systems))
        if self.incident and touched:
            systems_of = (
                select(incident_systems.c.bs_id)
                .join(incidents, incidents.c.id == incident_systems.c.incident_id)
                .where(incidents.c.name == self.incident)
            )
            q = q.where(branch_systems.c.id.in_(systems_of))
        return q


NO_FILTER = Filters()


def scope(q: Select) -> Select:
    return q.join(branches, branches.c.id == branch_systems.c.branch_id).join(
        systems, systems.c.id == branch_systems.c.system_id
    )
