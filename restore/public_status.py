"""What members may see without signing in: whether each service works, when it is
expected back, and what to do meanwhile. Never notes, names of reporters or incidents."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from restore.domain import Band
from restore.queries import NEVER

WORDS = {
    Band.IN.value: "Working",
    Band.RECOVERING.value: "Not working yet: being restored",
    Band.OUT.value: "Not working",
    NEVER: "No information yet",
}


def _status(state, band: str) -> str:
    return "Working, with some problems" if state == "degraded" else WORDS[band]


def rows(board: pd.DataFrame) -> pd.DataFrame:
    """One row per branch service: Branch, Service, Status, Expected back, Meanwhile."""
    out_of_service = board["band"] != Band.IN.value
    return pd.DataFrame(
        {
            "Branch": board["branch"].to_list(),
            "slug": board["slug"].to_list(),
            "Service": board["system_name"].to_list(),
            "Status": [_status(s, b) for s, b in zip(board["state"], board["band"], strict=True)],
            "Expected back": [
                f"{d:%d %b %Y}" if isinstance(d, date) and out else ""
                for d, out in zip(board["eta"], out_of_service, strict=True)
            ],
            "Meanwhile": board["workaround"].to_list(),
        }
    )


def last_updated(board: pd.DataFrame) -> datetime | None:
    """When anything on the board last changed (the newest report), or None."""
    newest = board["at"].max()
    return None if pd.isna(newest) else newest.to_pydatetime()


def working(board: pd.DataFrame) -> tuple[int, int]:
    """(services working, services in all)."""
    return int((board["band"] == Band.IN.value).sum()), len(board)
