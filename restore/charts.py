"""DataFrames -> plotly figures. No database, no Streamlit.

Colours come from restore.palette (checked to stay apart under the common colour-vision
deficiencies), and every colour is also named in a legend and on hover, and marked with a
symbol on the status grid, so none is the only cue. User text (branch and system names,
notes) is HTML-escaped before it reaches a label.

The shared template and helpers are in restore.chart_base, the status grid and its heat map
in restore.chart_grid; their public names are imported here too, so `charts.status_grid` and
`charts.TEMPLATE` keep working.
"""

from __future__ import annotations

import html
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from restore import scale
from restore.chart_base import FONT, TEMPLATE  # noqa: F401
from restore.chart_base import figure as _figure
from restore.chart_base import layout as _layout
from restore.chart_base import tint as _tint
from restore.chart_grid import region_heatmap, site_grid, state_name, status_grid  # noqa: F401
from restore.domain import STATE_IDS, STATES, Band
from restore.figures import Forecast
from restore.palette import (  # STATE_COLOURS, BAND_COLOURS: also imported from here
    BAND_COLOURS,
    INK,
    MUTED,
    SERIES_COLOURS,
    STATE_COLOURS,
)


def _mark_incidents(fig: go.Figure, incidents: pd.DataFrame, target: date | None) -> None:
    for i, r in enumerate(incidents.itertuples()):
        fig.add_vline(
            x=r.started_at.tz_convert("Europe/London").date(), line_dash="dot", line_color=MUTED
        )
        fig.add_annotation(
            x=r.started_at.tz_convert("Europe/London").date(),
            y=1 - 0.07 * i,
            yref="paper",
            text=html.escape(r.name),
            showarrow=False,
            bgcolor="rgba(255,255,255,0.85)",
            xanchor="left",
            yanchor="top",
            font={"size": 11, "color": MUTED},
        )
    if target:
        fig.add_vline(x=target, line_dash="dash", line_color=INK)
        fig.add_annotation(
            x=target,
            y=1,
            yref="paper",
            text="target",
            showarrow=False,
            xanchor="right",
            yanchor="top",
            font={"size": 11},
        )


def progress_chart(
    daily: pd.DataFrame, incidents: pd.DataFrame, fc: Forecast | None, total: int
) -> go.Figure:
    """Systems per band over time, stacked (in service at the bottom), with the forecast ahead."""
    fig = _figure()
    for band in (Band.IN, Band.RECOVERING, Band.OUT):
        fig.add_trace(
            go.Scatter(
                x=list(daily.index),
                y=daily.get(band.value, []),
                name=band.value.capitalize(),
                stackgroup="bands",
                mode="lines",
                line={"width": 0.5, "color": BAND_COLOURS[band.value]},
                fillcolor=_tint(BAND_COLOURS[band.value], 0.8),
                hovertemplate="%{x|%d %b}: %{y} " + band.value + "<extra></extra>",
            )
        )
    if fc and fc.likely and not daily.empty:
        _forecast_traces(fig, daily, fc, total)
    _mark_incidents(fig, incidents, fc.target if fc else None)
    fig.update_yaxes(title="systems", rangemode="tozero")
    return _layout(fig, "Restoration progress: systems by band", height=420)


def _forecast_traces(fig: go.Figure, daily: pd.DataFrame, fc: Forecast, total: int) -> None:
    today, now_in = daily.index[-1], int(daily[Band.IN.value].iloc[-1])
    if fc.optimistic:
        far = fc.pessimistic or fc.likely
        fig.add_trace(
            go.Scatter(
                x=[today, fc.optimistic, far, today],
                y=[now_in, total, total, now_in],
                mode="lines",
                fill="toself",
                fillcolor=_tint(BAND_COLOURS[Band.IN.value], 0.15),
                line={"width": 0},
                name="Forecast range",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[today, fc.likely],
            y=[now_in, total],
            mode="lines+markers",
            name="Forecast",
            line={"dash": "dash", "color": BAND_COLOURS[Band.IN.value], "width": 2},
            hovertemplate="%{x|%d %b %Y}: %{y} in service (forecast)<extra></extra>",
        )
    )


def burnup_chart(
    per_system: dict[str, pd.Series],
    claimed: pd.Series,
    verified: pd.Series,
    incidents: pd.DataFrame,
    target: date | None,
) -> go.Figure:
    """Share of each system type back in service, and branch claims against HQ verification."""
    fig = _figure()
    for i, (name, series) in enumerate(per_system.items()):
        fig.add_trace(
            go.Scatter(
                x=list(series.index),
                y=series,
                name=f"{html.escape(name)} in service",
                mode="lines",
                line={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)]},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=list(claimed.index),
            y=claimed,
            name="Back up (claimed by branch)",
            mode="lines",
            line={"dash": "dot", "color": MUTED, "width": 2},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=list(verified.index),
            y=verified,
            name="Restored (verified by HQ)",
            mode="lines",
            line={"color": STATE_COLOURS["restored"], "width": 3},
        )
    )
    _mark_incidents(fig, incidents, target)
    fig.update_yaxes(title="% of systems", range=[0, 105], ticksuffix="%")
    fig.update_traces(hovertemplate="%{x|%d %b}: %{y:.0f}%<extra>%{fullData.name}</extra>")
    return _layout(fig, "Burn-up: back in service, by system type", height=420)


def slippage_chart(slips: pd.DataFrame, system_names: dict[str, str]) -> go.Figure:
    """How often, and by how many days, expected restoration dates moved, per system type."""
    fig = _figure()
    for key, part in slips.groupby("system"):
        label = html.escape(system_names.get(key, key))
        hover = lambda p: [  # noqa: E731
            f"{html.escape(b)}: {a} -> {c}"
            for b, a, c in zip(p["branch"], p["from"], p["to"], strict=True)
        ]
        fig.add_trace(
            _box(part, "days", hover, name=f"{label} ({len(part):,} moves)", horizontal=False,
                 marker={"size": 6, "color": SERIES_COLOURS[0]})
        )  # fmt: skip
    fig.update_yaxes(title="days moved (later is positive)", zeroline=True, zerolinecolor=MUTED)
    title = f"Expected-date slippage: {len(slips)} moves"
    if len(slips):
        title += f", median {slips['days'].median():.0f} days"
    fig = _layout(fig, title, height=380)
    fig.update_layout(showlegend=False)
    return fig


def timeline_chart(segments: pd.DataFrame) -> go.Figure:
    """Each branch system's outage and recovery as coloured bars on a time axis (a Gantt)."""
    df = segments[segments["state"] != "operational"].copy()
    df["row"] = df["branch"].map(html.escape) + " · " + df["system"].map(html.escape)
    rows = list(dict.fromkeys(df.sort_values(["branch", "system"])["row"]))
    fig = _figure()
    for state in STATE_IDS:
        part = df[df["state"] == state]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                base=part["start"],
                x=(part["end"] - part["start"]).dt.total_seconds() * 1000,
                y=part["row"],
                orientation="h",
                name=STATES[state].label,
                marker={"color": STATE_COLOURS[state]},
                hovertemplate="%{y}<br>" + STATES[state].label + "<br>%{base|%d %b %H:%M}"
                " for %{customdata:.1f} days<extra></extra>",
                customdata=(part["end"] - part["start"]).dt.total_seconds() / 86400,
            )
        )
    fig.update_layout(barmode="overlay", bargap=0.25)
    fig.update_xaxes(type="date")
    fig.update_yaxes(categoryorder="array", categoryarray=rows[::-1], tickfont={"size": 10})
    return _layout(fig, "Outage timeline", height=max(300, 120 + 14 * len(rows)))


def ttr_chart(durations: pd.DataFrame, system_names: dict[str, str]) -> go.Figure:
    """Days from losing a system to having it back in service, per system type."""
    done = durations.dropna(subset=["days"])
    fig = _figure()
    for key, part in done.groupby("system"):
        fig.add_trace(
            _box(part, "days", lambda p: [html.escape(b) for b in p["branch"]],
                 name=html.escape(system_names.get(key, key)), horizontal=True,
                 marker={"size": 5, "color": STATE_COLOURS["restored"]})
        )  # fmt: skip
    open_now = int(durations["days"].isna().sum())
    title = f"Time to restore: {len(done)} restored"
    title += f", median {done['days'].median():.1f} days" if len(done) else ""
    title += f"; {open_now} still out" if open_now else ""
    fig.update_xaxes(title="days", rangemode="tozero")
    fig = _layout(fig, title, height=320)
    fig.update_layout(showlegend=False)
    return fig


def _box(part: pd.DataFrame, col: str, hover, *, name: str, horizontal: bool, marker: dict):
    """One box of `part[col]`: every point, each with its hover text, up to
    scale.BOX_POINTS_MAX; past that only the box (quartiles and whiskers, computed here), so
    that a national recovery's hundreds of thousands of values do not all go to the browser."""
    values = part[col].astype(float)
    axis = "x" if horizontal else "y"
    common = {"name": name, "line": {"color": MUTED}, "marker": marker,
              "orientation": "h" if horizontal else "v"}  # fmt: skip
    if len(values) <= scale.BOX_POINTS_MAX:
        return go.Box(**{axis: values}, boxpoints="all", jitter=0.4, pointpos=0,
                      hovertext=hover(part), **common)  # fmt: skip
    q1, median, q3 = (float(v) for v in values.quantile([0.25, 0.5, 0.75]))
    reach = 1.5 * (q3 - q1)
    low = float(values[values >= q1 - reach].min())
    high = float(values[values <= q3 + reach].max())
    other = "y" if horizontal else "x"
    return go.Box(
        **{other: [name]}, q1=[q1], median=[median], q3=[q3], lowerfence=[low],
        upperfence=[high], boxpoints=False, **common,
    )  # fmt: skip
