"""Write counters per topic and region, so a cached read is dropped only by the writes that
change its answer: a check-in moves the board but not the progress series, a write in
Kent leaves a Dorset-only view alone, and a new user leaves every chart alone.

Topics: "event" (any event: the board), "state" (a change of state or incident: progress,
episodes, spans), "eta" (a moved expected date: slippage), "users" (the user list). Anything
else (branches, systems, incidents, restores) bumps the global revision, which every key holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from restore.readmodels.tables import read_versions
from restore.readmodels.writes import bump
from restore.store import Store, settings

USERS = ("users", "")

# Which topics each read (restore.readplan.READERS) depends on, beyond the revision.
DEPENDS: dict[str, tuple[str, ...]] = {
    "board": ("event",),
    "board_as_of": ("event",),
    "status": ("event",),
    "in_service_change": ("state",),
    "history": ("event",),
    "progress": ("state",),
    "progress_by_system": ("state",),
    "durations": ("state",),
    "segments": ("state",),
    "slippage": ("eta",),
    "users": ("users",),
    "contacts": ("users",),
}


@dataclass(frozen=True)
class Versions:
    """The counters at one moment: the global revision and each (topic, region)'s count."""

    revision: int
    counts: dict[tuple[str, str], int]

    def key(self, name: str, regions: tuple[str, ...] = ()) -> tuple:
        """A cache key for read `name` narrowed to `regions` (empty: all of them).

        Counters only grow, so a sum over the regions in scope changes exactly when one
        of them does."""
        parts = [self.revision]
        for topic in DEPENDS.get(name, ()):
            parts.append(
                sum(
                    n for (t, r), n in self.counts.items()
                    if t == topic and (not regions or r in regions or topic == "users")
                )
            )  # fmt: skip
        return tuple(parts)


def current(store: Store) -> Versions:
    """One small query: the revision and every counter."""
    with store.read() as conn:
        rows = conn.execute(
            select(read_versions.c.topic, read_versions.c.region, read_versions.c.n)
        )
        counts = {(t, r): n for t, r, n in rows}
        rev = conn.execute(select(settings.c.value).where(settings.c.key == "revision")).scalar()
    return Versions(int(rev or 0), counts)


__all__ = ["DEPENDS", "USERS", "Versions", "bump", "current"]
