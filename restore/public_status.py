"""What members may see without signing in: whether each service works, when it is
expected back, and what to do meanwhile. Never notes, names of reporters or incidents."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from restore import scale
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


def region_lines(board: pd.DataFrame) -> list[str]:
    """One plain line per region, sorted: services working, and branches with one not."""
    up = board.assign(up=board["band"] == Band.IN.value)
    per_branch = up.groupby(["region", "branch"])["up"].all().groupby("region")
    whole = per_branch.agg(["size", "sum"])
    services = up.groupby("region")["up"].agg(["size", "sum"])
    lines = []
    for region in sorted(services.index):
        n, working_now = int(services.loc[region, "size"]), int(services.loc[region, "sum"])
        branches = int(whole.loc[region, "size"])
        hit = branches - int(whole.loc[region, "sum"])
        lines.append(
            f"{region}: {working_now:,} of {n:,} services working; "
            f"{hit:,} of {branches:,} branch{'es' if branches != 1 else ''} with a service "
            "not working."
        )
    return lines


def listing(board: pd.DataFrame, *, region: str | None = None, page: int = 1) -> scale.Slice:
    """One page (scale.PAGE_SIZE branches) of rows(), for one region or all; whole branches,
    in the board's order."""
    part = board if region is None else board[board["region"] == region]
    chosen = scale.page_by(part, "slug", page=page, size=scale.PAGE_SIZE, what="branches")
    return scale.Slice(rows(chosen.frame), chosen.page, chosen.pages, chosen.first,
                       chosen.last, chosen.total, chosen.what)  # fmt: skip
