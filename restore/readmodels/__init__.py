"""Incremental read models: small tables kept in each write's transaction, so the board,
progress, episodes and the board as of a past moment read summaries, not the whole log.

`apply` is called by restore.records.append; `rebuild` replays the log into them.
"""

from restore.readmodels.maintain import apply
from restore.readmodels.rebuild import rebuild, rebuild_in

__all__ = ["apply", "rebuild", "rebuild_in"]
