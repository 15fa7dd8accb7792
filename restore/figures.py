"""Headline figures and the restoration forecast, from a board and a progress series.

Pure pandas over frames the queries return, so the overview, the briefing and
the tests compute every figure the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd

from restore.domain import Band
from restore.queries import never_reported
from restore.timefmt import london_date

PACE_WINDOW_DAYS = 14
IN = Band.IN.value


@dataclass(frozen=True)
class Forecast:
    """When everything is back in service at the recent pace (None: no progress to project)."""

    likely: date | None
    optimistic: date | None
    pessimistic: date | None  # None with a likely date: some recent week made no progress
    pace_per_day: float
    remaining: int
    target: date | None
    done_on: date | None = None  # already complete: the day the last system came back

    @property
    def days_before_target(self) -> int | None:
        """Positive: forecast ahead of the target; negative: behind it."""
        end = self.done_on or self.likely
        return (self.target - end).days if self.target and end else None

    def against_target(self) -> str:
        """The forecast against the target in words ("25 days ahead of the 30 Dec target"),
        never a bare signed number."""
        delta = self.days_before_target
        if delta is None:
            return "no restoration target is set" if self.target is None else ""
        target = f"the {self.target:%-d %b} target"
        if delta == 0:
            return f"on {target}"
        days = f"{abs(delta)} day{'s' if abs(delta) != 1 else ''}"
        return f"{days} {'ahead of' if delta > 0 else 'behind'} {target}"


@dataclass(frozen=True)
class Headline:
    as_of: datetime
    total: int
    in_service: int
    change_24h: int
    out_of_service: int
    branches_total: int
    branches_all_in_service: int
    branches_fresh: int  # reported in the last 24 hours
    days_since: dict[str, int] = field(default_factory=dict)  # incident name -> days
    forecast: Forecast | None = None
    never_reported_branches: tuple[str, ...] = ()  # no report on any system
    never_reported_systems: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.in_service / self.total) if self.total else 0


def _date_after(today: date, remaining: int, pace: float) -> date | None:
    return today + timedelta(days=math.ceil(remaining / pace)) if pace > 0 else None


def forecast(progress_daily: pd.DataFrame, total: int, target: date | None) -> Forecast:
    """Project the in-service count forward at the pace of the last 14 days.

    The range comes from the best and worst of the last three weeks' paces.
    """
    series = progress_daily[IN] if not progress_daily.empty else pd.Series(dtype="int64")
    if series.empty:
        return Forecast(None, None, None, 0.0, total, target)
    now_in, today = int(series.iloc[-1]), series.index[-1]
    remaining = total - now_in
    if remaining <= 0:
        short = [i for i, v in enumerate(series) if v < total]  # last day not all back
        done = series.index[short[-1] + 1] if short else series.index[0]
        return Forecast(None, None, None, 0.0, 0, target, done_on=done)
    window = min(PACE_WINDOW_DAYS, len(series) - 1)
    pace = (now_in - int(series.iloc[-1 - window])) / window if window else 0.0
    weeks = [
        (int(series.iloc[-1 - 7 * w]) - int(series.iloc[-8 - 7 * w])) / 7
        for w in range(3)
        if len(series) >= 8 + 7 * w
    ] or [pace]
    return Forecast(
        likely=_date_after(today, remaining, pace),
        optimistic=_date_after(today, remaining, max(weeks)),
        pessimistic=_date_after(today, remaining, min(weeks)),
        pace_per_day=pace,
        remaining=remaining,
        target=target,
    )


def headline(
    board: pd.DataFrame,
    change_24h: int,
    progress_daily: pd.DataFrame,
    incidents: pd.DataFrame,
    as_of: datetime,
) -> Headline:
    """The overview's first line of figures, for the board as of `as_of`; `change_24h` is
    queries.in_service_change over the 24 hours before it."""
    in_service = int((board["band"] == IN).sum())
    per_branch = (board["band"] == IN).groupby(board["branch"]).all()
    recent = board[board["at"] >= pd.Timestamp(as_of) - pd.Timedelta(hours=24)]
    started = incidents[incidents["started_at"] <= pd.Timestamp(as_of)]
    days_since = {
        r.name: (london_date(as_of) - london_date(r.started_at.to_pydatetime())).days
        for r in started.itertuples()
    }
    targets = started["target_date"].dropna()
    silent, unreported = never_reported(board)
    return Headline(
        as_of=as_of,
        total=len(board),
        in_service=in_service,
        change_24h=change_24h,
        out_of_service=len(board) - in_service,
        branches_total=int(per_branch.size),
        branches_all_in_service=int(per_branch.sum()),
        branches_fresh=int(recent["branch"].nunique()),
        days_since=days_since,
        forecast=forecast(progress_daily, len(board), max(targets) if len(targets) else None),
        never_reported_branches=tuple(silent),
        never_reported_systems=unreported,
    )
