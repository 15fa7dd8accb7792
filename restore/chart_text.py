"""Text alternatives for the charts: one plain sentence and a small table each.

For screen-reader users and anyone who cannot read a chart's colours or shapes. Each
function takes the same data as its namesake in restore.charts and returns an `Alt`.
Pure pandas. The text is plain (not HTML or Markdown): show it with st.text or escaped.
Tables never grow without bound: DAYS rows for series over time, MAX_ROWS for lists of
outages or moves (the largest first), MAX_BRANCHES x MAX_SYSTEMS for the status grid and
MAX_BRANCHES regions for its heat map (restore.scale says when the grid becomes one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from restore import scale
from restore.domain import STATES, Band
from restore.figures import Forecast

DAYS = 14  # progress and burn-up tables: the last two weeks, the forecast's pace window
MAX_ROWS = 50  # outage, duration and slippage tables: the 50 largest
MAX_BRANCHES = 100  # status grid rows (44 branches today)
MAX_SYSTEMS = 25  # status grid columns (3 system types today; up to 25 supported)
NO_REPORT = "No report"


@dataclass(frozen=True, eq=False)  # eq=False: DataFrames have no single truth value
class Alt:
    """A chart's text alternative."""

    summary: str
    table: pd.DataFrame


def _day(d: date) -> str:
    return f"{d:%-d %b %Y}"


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _band(state) -> str | None:
    return STATES[state].band.value if isinstance(state, str) else None


_BANDS = {key: state.band.value for key, state in STATES.items()}  # map, not a call per row


def _label(state) -> str:
    return STATES[state].label if isinstance(state, str) else NO_REPORT


def _capped(n_shown: int, n_all: int, what: str) -> str:
    return f" (table: the first {n_shown} of {n_all} {what})" if n_shown < n_all else ""


# --- status grid ----------------------------------------------------------------------


def status_grid(board: pd.DataFrame) -> Alt:
    """The text of whichever picture charts.status_grid draws: site_grid's, or past
    scale.GRID_MAX_SITES sites, region_heatmap's."""
    return region_heatmap(board) if scale.grid_too_wide(board) else site_grid(board)


def site_grid(board: pd.DataFrame) -> Alt:
    """Counts per band, and each branch's systems by state label (branches in chart order)."""
    bands = board["state"].map(_BANDS)
    n_branches = board["branch"].nunique()
    full = board.assign(up=bands == Band.IN.value).groupby("branch")["up"].all()
    summary = _band_counts(board, f"{_plural(n_branches, 'branch', 'branches')}")
    summary += f"; {int(full.sum())} of {n_branches} branches fully in service."
    table = _grid_table(board)
    return Alt(summary + _capped(len(table), n_branches, "branches"), table)


def _band_counts(board: pd.DataFrame, where: str) -> str:
    """"N of M systems in service across `where`; R recovering, O out of service[, U with no
    report]"."""
    bands = board["state"].map(_BANDS)
    counts = {b.value: int((bands == b.value).sum()) for b in Band}
    text = (
        f"{counts[Band.IN.value]:,} of {len(board):,} systems in service across {where}; "
        f"{counts[Band.RECOVERING.value]:,} recovering, {counts[Band.OUT.value]:,} out of service"
    )
    if unreported := int(bands.isna().sum()):
        text += f", {unreported:,} with no report"
    return text


def _grid_table(board: pd.DataFrame) -> pd.DataFrame:
    order = board.sort_values(["is_hq", "region", "branch"], ascending=[False, True, True])
    branches = list(dict.fromkeys(order["branch"]))[:MAX_BRANCHES]
    systems = list(dict.fromkeys(board["system_name"]))[:MAX_SYSTEMS]
    labels = board.assign(label=board["state"].map(_label))
    wide = labels.pivot_table(
        index="branch", columns="system_name", values="label", aggfunc="first"
    ).reindex(index=branches, columns=systems)
    wide = wide.fillna(NO_REPORT).reset_index().rename(columns={"branch": "Branch"})
    wide.columns.name = None
    return wide


def region_heatmap(board: pd.DataFrame) -> Alt:
    """Systems in service across sites and regions, the region and system type furthest
    behind; a row per region (MAX_BRANCHES at most) with its sites, systems in service, and
    the share in service (%, rounded down) of each system type (MAX_SYSTEMS at most)."""
    shares = scale.region_shares(board)
    if shares.empty:
        return Alt("No branch systems.", pd.DataFrame(columns=["Region"]))
    n_regions = shares["region"].nunique()
    worst = shares.sort_values(["share", "region"]).iloc[0]
    full = int((shares["in_service"] == shares["total"]).sum())
    where = f"{board['branch'].nunique():,} sites in {_plural(n_regions, 'region')}"
    summary = (
        f"{_band_counts(board, where)}; furthest behind: {worst['system_name']} in "
        f"{worst['region']}, {int(worst['share'])}% in service; {full} of {len(shares)} "
        "region and system pairs fully in service."
    )
    systems = list(dict.fromkeys(shares["system_name"]))[:MAX_SYSTEMS]
    per = shares.assign(share=shares["share"].astype(int)).pivot(
        index="region", columns="system_name", values="share"
    )
    per = per.reindex(columns=systems).astype("Int64").add_suffix(" %")
    by_region = shares.groupby("region").agg(up=("in_service", "sum"), all=("total", "sum"))
    sites = board.groupby("region")["branch"].nunique()
    counts = [f"{u:,} of {a:,}" for u, a in zip(by_region["up"], by_region["all"], strict=True)]
    table = pd.DataFrame(
        {"Sites": sites.reindex(by_region.index), "In service": counts}, index=by_region.index
    )
    table = table.join(per).head(MAX_BRANCHES).rename_axis("Region").reset_index()
    return Alt(summary + _capped(len(table), n_regions, "regions"), table)


# --- progress and burn-up ---------------------------------------------------------------


def _forecast_words(fc: Forecast | None) -> str:
    if fc is None:
        return ""
    if fc.done_on:
        return f" All back in service since {_day(fc.done_on)}."
    if not fc.likely:
        return " No recent progress to forecast from."
    words = f" Forecast: all back in service by {_day(fc.likely)}"
    if fc.optimistic and fc.pessimistic:
        words += f" (between {_day(fc.optimistic)} and {_day(fc.pessimistic)})"
    return words + _against_target(fc) + "."


def _against_target(fc: Forecast) -> str:
    delta = fc.days_before_target
    if delta is None:
        return ""
    target = f"the {fc.target:%-d %b %Y} target"
    if delta == 0:
        return f", on {target}"
    return f", {_plural(abs(delta), 'day')} {'ahead of' if delta > 0 else 'behind'} {target}"


def progress_chart(
    daily: pd.DataFrame, incidents: pd.DataFrame, fc: Forecast | None, total: int
) -> Alt:
    """The latest day's counts per band and the forecast; the last DAYS days as a table.

    `incidents` is taken for symmetry with charts.progress_chart; the sentence does not use it.
    """
    columns = ["Date", "In service", "Recovering", "Out of service", NO_REPORT]
    if daily.empty:
        return Alt("No status reports yet.", pd.DataFrame(columns=columns))
    recent = daily.tail(DAYS)
    bands = [Band.IN.value, Band.RECOVERING.value, Band.OUT.value]
    table = pd.DataFrame(
        {
            "Date": [_day(d) for d in recent.index],
            **{
                c: recent[b].astype(int).to_list() for c, b in zip(columns[1:4], bands, strict=True)
            },
        }
    )
    table[NO_REPORT] = total - table[columns[1:4]].sum(axis=1)
    last = table.iloc[-1]
    summary = (
        f"{last['In service']} of {total} systems in service on {last['Date']}; "
        f"{last['Recovering']} recovering, {last['Out of service']} out of service"
    )
    summary += f", {last[NO_REPORT]} with no report." if last[NO_REPORT] else "."
    return Alt(summary + _forecast_words(fc), table)


def burnup_chart(
    per_system: dict[str, pd.Series],
    claimed: pd.Series,
    verified: pd.Series,
    incidents: pd.DataFrame,
    target: date | None,
) -> Alt:
    """The latest percentages in service, per system type and overall; the last DAYS days."""
    if verified.empty:
        return Alt("No progress recorded yet.", pd.DataFrame(columns=["Date"]))
    cols = {f"{name} in service (%)": s for name, s in per_system.items()}
    cols |= {"Claimed back up (%)": claimed, "Verified by HQ (%)": verified}
    frame = pd.DataFrame(cols).reindex(verified.index).tail(DAYS).round().astype("Int64")
    table = frame.reset_index(drop=True)
    table.insert(0, "Date", [_day(d) for d in frame.index])
    parts = ", ".join(f"{name} {_pct(s)}" for name, s in per_system.items())
    summary = (
        f"On {table['Date'].iloc[-1]}, {_pct(verified)} of systems were restored and verified "
        f"by HQ, {_pct(claimed)} back up as claimed by branches"
    )
    summary += f"; by system type: {parts}" if parts else ""
    summary += f". Target: {_day(target)}." if target else "."
    return Alt(summary, table)


def _pct(series: pd.Series) -> str:
    return f"{series.iloc[-1]:.0f}%" if len(series) and pd.notna(series.iloc[-1]) else "-"


# --- slippage and time to restore -----------------------------------------------------


def slippage_chart(slips: pd.DataFrame, system_names: dict[str, str]) -> Alt:
    """How many expected dates moved, which way and by how much; the MAX_ROWS largest moves."""
    columns = ["Branch", "System", "Moved on", "From", "To", "Days later"]
    if slips.empty:
        return Alt("No expected restoration dates have moved.", pd.DataFrame(columns=columns))
    days = slips["days"]
    per_system = slips["system"].map(lambda k: system_names.get(k, k)).value_counts()
    summary = (
        f"Expected restoration dates moved {_plural(len(slips), 'time')}: "
        f"{int((days > 0).sum())} later, {int((days < 0).sum())} earlier; "
        f"median move {days.median():.0f} days; most often for {per_system.index[0]} "
        f"({per_system.iloc[0]})."
    )
    top = slips.assign(size=days.abs()).sort_values(["size", "at"], ascending=[False, True])
    top = top.head(MAX_ROWS)
    table = pd.DataFrame(
        {
            "Branch": top["branch"].to_list(),
            "System": [system_names.get(k, k) for k in top["system"]],
            "Moved on": [_day(t.tz_convert("Europe/London").date()) for t in top["at"]],
            "From": [_day(d) for d in top["from"]],
            "To": [_day(d) for d in top["to"]],
            "Days later": top["days"].astype(int).to_list(),
        }
    )
    return Alt(summary + _capped(len(table), len(slips), "moves, largest first"), table)


def ttr_chart(durations: pd.DataFrame, system_names: dict[str, str]) -> Alt:
    """Outages ended and the median days they took, with a row per system type."""
    done = durations.dropna(subset=["days"])
    still_out = int(durations["days"].isna().sum())
    if done.empty:
        summary = "No outage has ended yet"
    else:
        summary = (
            f"{_plural(len(done), 'outage')} ended, after a median of "
            f"{done['days'].median():.1f} days (fastest {done['days'].min():.1f}, "
            f"slowest {done['days'].max():.1f})"
        )
    summary += f"; {still_out} still out." if still_out else "."
    rows = []
    for key, part in durations.groupby("system"):
        ended = part["days"].dropna()
        rows.append(
            {
                "System": system_names.get(key, key),
                "Restored": len(ended),
                "Median days": round(ended.median(), 1) if len(ended) else None,
                "Fastest (days)": round(ended.min(), 1) if len(ended) else None,
                "Slowest (days)": round(ended.max(), 1) if len(ended) else None,
                "Still out": int(part["days"].isna().sum()),
            }
        )
    return Alt(summary, pd.DataFrame(rows).head(MAX_SYSTEMS))


# --- outage timeline ----------------------------------------------------------------------


def timeline_chart(segments: pd.DataFrame, system_names: dict[str, str] | None = None) -> Alt:
    """Per branch system: days out of service and recovering, when lost, whether back; the
    MAX_ROWS longest."""
    columns = ["Branch", "System", "Days out of service", "Days recovering", "Lost on", "Now"]
    names = system_names or {}
    rows = [
        _timeline_row(branch, names.get(system, system), part)
        for (branch, system), part in segments.groupby(["branch", "system"])
    ]
    hit = pd.DataFrame([r for r in rows if r is not None], columns=[*columns, "_days", "_out"])
    if hit.empty:
        return Alt("No branch system has been out of service.", pd.DataFrame(columns=columns))
    hit = hit.sort_values(["_days", "Branch", "System"], ascending=[False, True, True])
    top = hit.iloc[0]
    summary = (
        f"{_plural(len(hit), 'branch system')} lost service at some point; "
        f"{int(hit['_out'].sum())} not back in service yet. Longest: {top['Branch']} "
        f"{top['System']}, {top['_days']:.1f} days out of service or recovering."
    )
    table = hit.head(MAX_ROWS)[columns].reset_index(drop=True)
    return Alt(summary + _capped(len(table), len(hit), "branch systems, longest first"), table)


def _timeline_row(branch: str, system: str, part: pd.DataFrame) -> list | None:
    part = part.sort_values("start")
    days = (part["end"] - part["start"]).dt.total_seconds() / 86400
    out = float(days[part["band"] == Band.OUT.value].sum())
    recovering = float(days[part["band"] == Band.RECOVERING.value].sum())
    lost = part.loc[part["band"] != Band.IN.value, "start"]
    if lost.empty:
        return None
    now = part["state"].iloc[-1]
    return [
        branch,
        system,
        round(out, 1),
        round(recovering, 1),
        _day(lost.min().tz_convert("Europe/London").date()),
        _label(now),
        out + recovering,
        _band(now) != Band.IN.value,
    ]
