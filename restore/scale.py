"""What the charts and lists show once an organisation is too big to show whole (issue 9).

Up to 4,000 sites x 25 systems: a grid with a column per site, a timeline with a row per
branch system, or a list with a line per outage, stops being readable long before that.
The thresholds live here, and so do the choices made past them (which region, which page,
which 50), so that pages only draw what these functions return. Pure pandas, vectorised:
nothing here loops in Python over branch systems.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from restore.domain import Band

GRID_MAX_SITES = 60  # above this, the status grid becomes a region x system heat map
TIMELINE_MAX_ROWS = 200  # above this many rows, the outage timeline shows a choice of rows
SLOWEST = 50  # ... by default the slowest 50 branch systems
PAGE_SIZE = 50  # public page: branches per page
BOX_POINTS_MAX = 2_000  # a box plot draws each value up to this many; past it, the box alone
NAMED_PER_REGION = 10  # briefing: still-out systems named per region; the rest are counted
SLOWEST_CHOICE = f"The {SLOWEST} slowest"  # the timeline's default choice (not a region)
IN = Band.IN.value


def _fmt(n: int) -> str:
    return f"{n:,}"


def _plural(n: int, word: str, plural: str) -> str:
    return f"{_fmt(n)} {word if n == 1 else plural}"


# --- status grid -> heat map ------------------------------------------------------------


def grid_too_wide(board: pd.DataFrame) -> bool:
    """True when the board has more sites than a readable grid (GRID_MAX_SITES) holds."""
    return board["branch"].nunique() > GRID_MAX_SITES


def grid_needs_notes(sites: pd.DataFrame, regions: tuple[str, ...] = ()) -> bool:
    """Whether the status grid will have a column per site (hovering a cell shows its last
    note), judged from the branch list (`regions`: the filter's; empty: all) before any
    board is read. Past GRID_MAX_SITES the heat map needs no notes (readplan.moment)."""
    if regions:
        sites = sites[sites["region"].isin(regions)]
    return len(sites) <= GRID_MAX_SITES


def regions(board: pd.DataFrame) -> list[str]:
    """The board's regions, sorted."""
    return sorted(board["region"].dropna().unique())


def region_shares(board: pd.DataFrame) -> pd.DataFrame:
    """One row per region and system type: region, system, system_name, in_service, total,
    share (per cent in service, 0-100), sites. Regions sorted; systems in board order."""
    columns = ["region", "system", "system_name", "in_service", "total", "share", "sites"]
    if board.empty:
        return pd.DataFrame(columns=columns)
    df = board.assign(up=board["band"] == IN)
    out = df.groupby(["region", "system"], sort=False).agg(
        system_name=("system_name", "first"),
        in_service=("up", "sum"),
        total=("up", "size"),
        sites=("branch", "nunique"),
    )
    out = out.reset_index()
    out["in_service"] = out["in_service"].astype(int)
    out["share"] = 100 * out["in_service"] / out["total"]
    systems = list(board["system"].unique())  # in order of appearance
    out["_s"] = out["system"].map({s: i for i, s in enumerate(systems)})
    out = out.sort_values(["region", "_s"]).reset_index(drop=True)
    return out[columns]


# --- pages ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # eq=False: DataFrames have no single truth value
class Slice:
    """One page of a frame whose rows belong to groups (branches): whole groups per page."""

    frame: pd.DataFrame
    page: int  # 1-based, clamped to 1..pages
    pages: int
    first: int  # 1-based number of the first group on the page (0 when there is none)
    last: int
    total: int  # groups in all
    what: str  # the groups' name, plural ("branches")

    @property
    def caption(self) -> str:
        if self.total == 0:
            return f"No {self.what}."
        if self.pages == 1:
            return f"All {_fmt(self.total)} {self.what}."
        return (
            f"{self.what.capitalize()} {_fmt(self.first)}-{_fmt(self.last)} of "
            f"{_fmt(self.total)} (page {self.page} of {self.pages})."
        )


def page_by(
    frame: pd.DataFrame,
    key: str,
    *,
    page: int = 1,
    size: int,
    what: str = "branches",
    order: list | None = None,
) -> Slice:
    """The rows whose `key` is among the `page`th `size` distinct keys, in `order` (default:
    order of first appearance). A page past the end gives the last page."""
    keys = list(dict.fromkeys(frame[key])) if order is None else list(order)
    pages = max(1, -(-len(keys) // size))
    page = min(max(int(page), 1), pages)
    chosen = keys[(page - 1) * size : page * size]
    rows = frame[frame[key].isin(chosen)]
    rank = {k: i for i, k in enumerate(chosen)}
    rows = rows.iloc[rows[key].map(rank).argsort(kind="stable")]
    first = (page - 1) * size + 1 if chosen else 0
    return Slice(rows, page, pages, first, first + len(chosen) - 1 if chosen else 0,
                 len(keys), what)  # fmt: skip


def site_order(board: pd.DataFrame) -> list[str]:
    """Branches in the status grid's order: HQ first, then by region and name."""
    order = board.sort_values(["is_hq", "region", "branch"], ascending=[False, True, True])
    return list(dict.fromkeys(order["branch"]))


def region_sites(board: pd.DataFrame, region: str, *, page: int = 1) -> Slice:
    """A region's part of the board, GRID_MAX_SITES sites a page, for the ordinary grid."""
    part = board[board["region"] == region]
    return page_by(part, "branch", page=page, size=GRID_MAX_SITES, what="sites",
                   order=site_order(part))  # fmt: skip


# --- outage timeline ---------------------------------------------------------------------


def timeline_rows(segments: pd.DataFrame) -> pd.DataFrame:
    """The outage timeline's rows (branch systems with a segment other than operational):
    branch, system, days_lost (days out of service or recovering), still_out (the latest
    segment is not in service). An open segment (no end) runs to the latest time known."""
    columns = ["branch", "system", "days_lost", "still_out"]
    drawn = segments[segments["state"] != "operational"]
    if drawn.empty:
        return pd.DataFrame(columns=columns)
    latest = pd.concat([segments["start"], segments["end"]]).max()
    seg = segments.assign(end=segments["end"].fillna(latest))
    lost = seg["band"] != IN
    seg = seg.assign(days=((seg["end"] - seg["start"]).dt.total_seconds() / 86400).where(lost, 0))
    keys = ["branch", "system"]
    days = seg.groupby(keys)["days"].sum()
    last = seg.sort_values("start").groupby(keys)["band"].last() != IN
    rows = drawn[keys].drop_duplicates().set_index(keys)
    rows = rows.assign(days_lost=days.reindex(rows.index).fillna(0.0),
                       still_out=last.reindex(rows.index).fillna(False).astype(bool))  # fmt: skip
    return rows.reset_index()[columns]


def timeline_too_long(segments: pd.DataFrame) -> bool:
    """True when the outage timeline would have more than TIMELINE_MAX_ROWS rows."""
    drawn = segments[segments["state"] != "operational"]
    return len(drawn[["branch", "system"]].drop_duplicates()) > TIMELINE_MAX_ROWS


def timeline_options(board: pd.DataFrame) -> list[str]:
    """What the outage timeline may show when it is too long: the slowest, or one region."""
    return [SLOWEST_CHOICE, *regions(board)]


def slowest(rows: pd.DataFrame, n: int = SLOWEST) -> pd.DataFrame:
    """The `n` slowest of timeline_rows(): still out first, then the longest lost."""
    ranked = rows.sort_values(
        ["still_out", "days_lost", "branch", "system"], ascending=[False, False, True, True]
    )
    return ranked.head(n)


def lost_rows(episodes: pd.DataFrame, as_of) -> pd.DataFrame:
    """The outage timeline's rows from the outage episodes (restore.timelines.durations), as
    timeline_rows() gives them for the systems that lost service, without reading every
    state stretch: days_lost sums each episode (a running one to `as_of`)."""
    columns = ["branch", "system", "days_lost", "still_out"]
    if episodes.empty:
        return pd.DataFrame(columns=columns)
    end = episodes["restored_at"].dt.as_unit("us").fillna(pd.Timestamp(as_of).as_unit("us"))
    ep = episodes.assign(
        days_lost=(end - episodes["down_at"]).dt.total_seconds().clip(lower=0) / 86400,
        still_out=episodes["restored_at"].isna(),
    )
    rows = ep.groupby(["branch", "system"], sort=False).agg(
        days_lost=("days_lost", "sum"), still_out=("still_out", "any")
    )
    return rows.reset_index()[columns]


@dataclass(frozen=True, eq=False)
class TimelinePick:
    """The rows (branch, system) the outage timeline draws, and a caption saying what is
    left out."""

    rows: pd.DataFrame
    total: int  # rows the whole timeline would have
    caption: str  # "" when every row is drawn

    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple(zip(self.rows["branch"], self.rows["system"], strict=True))


def pick_timeline(
    rows: pd.DataFrame, board: pd.DataFrame, *, choice: str | None = None
) -> TimelinePick:
    """Every row when there are at most TIMELINE_MAX_ROWS; else the region `choice` (a region
    of `board`), or by default (None or SLOWEST_CHOICE) the SLOWEST slowest. A region with more
    than TIMELINE_MAX_ROWS rows is cut to its own slowest SLOWEST."""
    total = len(rows)
    if total <= TIMELINE_MAX_ROWS:
        return TimelinePick(rows, total, "")
    region_of = board.drop_duplicates("branch").set_index("branch")["region"]
    region = choice if choice and choice != SLOWEST_CHOICE else None
    if region is not None:
        rows = rows[rows["branch"].map(region_of) == region]
    lost = _plural(len(rows), "branch system", "branch systems")
    lost += f" in {region}" if region else ""
    if region is None or len(rows) > TIMELINE_MAX_ROWS:
        picked = slowest(rows)
        what = f"the {_fmt(len(picked))} slowest of the {lost} that lost service"
        what += " (still out first, then the longest out)"
    else:
        picked, what = rows, f"the {lost} that lost service"
    caption = (
        f"The outage timeline shows {what}; {_fmt(total - len(picked))} of {_fmt(total)} left out."
    )
    if region is None:
        caption += " Choose a region to see its own."
    return TimelinePick(picked, total, caption)


@dataclass(frozen=True, eq=False)
class TimelineChoice:
    """The segments the outage timeline draws, and a caption saying what is left out."""

    segments: pd.DataFrame
    shown: int  # rows drawn
    total: int  # rows the whole timeline would have
    caption: str  # "" when every row is drawn


def choose_timeline(
    segments: pd.DataFrame, board: pd.DataFrame, *, choice: str | None = None
) -> TimelineChoice:
    """pick_timeline() over every segment's rows, and the segments of the rows picked."""
    pick = pick_timeline(timeline_rows(segments), board, choice=choice)
    if not pick.caption:
        return TimelineChoice(segments, pick.total, pick.total, "")
    keep = pd.MultiIndex.from_frame(pick.rows[["branch", "system"]])
    shown = segments[pd.MultiIndex.from_frame(segments[["branch", "system"]]).isin(keep)]
    return TimelineChoice(shown, len(pick.rows), pick.total, pick.caption)
