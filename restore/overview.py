"""The overview's figures for one moment, from the frames a read plan loads.

Pages draw what this returns; every sum and share is computed here, where a test
can check it, and the same headline sentence opens the overview and the briefing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from restore import briefing, figures, queries, scale
from restore.domain import Band


@dataclass(frozen=True)
class Overview:
    """Everything the overview page shows, as of one moment."""

    as_of: datetime
    head: figures.Headline
    headline: str
    board: pd.DataFrame
    daily: pd.DataFrame
    incidents: pd.DataFrame
    names: dict[str, str]  # system key -> name
    per_system: dict[str, pd.Series]  # system name -> % in service per day
    claimed: pd.Series  # % in service or waiting for HQ checks, per day
    verified: pd.Series  # % in service, per day
    slippage: pd.DataFrame
    episodes: pd.DataFrame


def compose(
    frames: dict[str, Any],
    as_of: datetime,
    *,
    incident: str | None = None,
    previous_in: int | None = None,
) -> Overview:
    """The overview as of `as_of` (aware) from readplan.moment()'s frames (without "daily",
    the daily totals are summed from "by_system").

    `incident` narrows the days-since and target figures to one incident;
    `previous_in` is the in-service count of the last published briefing.
    """
    board = frames["board"]
    daily = frames["daily"] if "daily" in frames else queries.progress_total(frames["by_system"])
    incidents = frames["incidents"]
    if incident:
        incidents = incidents[incidents["name"] == incident]
    head = figures.headline(board, frames["change_24h"], daily, incidents, as_of)
    kinds = board[["system", "system_name"]].drop_duplicates("system")  # 100,000 rows at L
    names = dict(zip(kinds["system"], kinds["system_name"], strict=True))
    per_system = {
        names.get(key, key): 100
        * series[Band.IN.value]
        / max(int((board["system"] == key).sum()), 1)
        for key, series in frames["by_system"].items()
    }
    total = max(head.total, 1)
    # Never-affected systems count in both lines, so that both reach 100% with the rest.
    verified = 100 * daily[Band.IN.value] / total
    return Overview(
        as_of=as_of,
        head=head,
        headline=briefing.headline_text(head, previous_in),
        board=board,
        daily=daily,
        incidents=incidents,
        names=names,
        per_system=per_system,
        claimed=verified + 100 * daily["verifying"] / total,
        verified=verified,
        slippage=frames["slippage"],
        episodes=frames["episodes"],
    )


def timeline_rows(view: Overview) -> pd.DataFrame:
    """The outage timeline's rows (systems that lost service), from the episodes."""
    return scale.lost_rows(view.episodes, view.as_of)


def drawn_segments(segments: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """State stretches as the timeline draws them: a running one ends at `as_of`."""
    segments = segments.assign(end=segments["end"].fillna(pd.Timestamp(as_of)))
    return segments[segments["start"] >= pd.Timestamp(as_of) - pd.Timedelta(days=3650)]


@dataclass(frozen=True, eq=False)
class Drawing:
    """One chart of the overview and its text alternative, drawn together so that a page
    can keep both for as long as the data they show stays the same."""

    figure: Any  # a plotly Figure
    alt: Any  # chart_text.Alt


def drawings(view: Overview) -> dict[str, Drawing]:
    """The overview's fixed charts (the grid or heat map, progress, burn-up, slippage and
    time to restore), each with its text alternative."""
    from restore import chart_text, charts  # plotly is heavy; only pages that draw need it

    head = view.head
    target = head.forecast.target if head.forecast else None
    made = {
        "status_grid": (view.board,),
        "progress_chart": (view.daily, view.incidents, head.forecast, head.total),
        "burnup_chart": (view.per_system, view.claimed, view.verified, view.incidents, target),
        "slippage_chart": (view.slippage, view.names),
        "ttr_chart": (view.episodes, view.names),
    }
    return {
        name: Drawing(getattr(charts, name)(*args), getattr(chart_text, name)(*args))
        for name, args in made.items()
    }


def timeline_drawing(segments: pd.DataFrame) -> Drawing:
    """The outage timeline of the segments chosen to show (see restore.scale)."""
    from restore import chart_text, charts

    return Drawing(charts.timeline_chart(segments), chart_text.timeline_chart(segments))
