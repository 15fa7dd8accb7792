"""DataFrames -> plotly figures. No database, no Streamlit.

Colours are Okabe-Ito (safe for the common colour-vision deficiencies), and
every colour is also named in a legend and on hover, so none is the only cue.
User text (notes) is HTML-escaped before it reaches a hover label.
"""

from __future__ import annotations

import html
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from restore.domain import STATE_IDS, STATES, Band
from restore.figures import Forecast

STATE_COLOURS = {
    "operational": "#0072B2",
    "outage": "#D55E00",
    "contained": "#CC79A7",
    "investigating": "#E69F00",
    "rebuilding": "#F0E442",
    "verifying": "#56B4E9",
    "restored": "#009E73",
    "degraded": "#8FD1B8",
    None: "#D9D9D9",
}
BAND_COLOURS = {
    Band.OUT.value: "#D55E00",
    Band.RECOVERING.value: "#E69F00",
    Band.IN.value: "#009E73",
}
FONT = {"family": "Source Sans Pro, Arial, sans-serif", "size": 13}


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font=FONT,
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "xanchor": "left"},
        hoverlabel={"align": "left"},
    )
    fig.update_xaxes(showgrid=True, gridcolor="#EEEEEE")
    fig.update_yaxes(showgrid=True, gridcolor="#EEEEEE")
    return fig


def _text(value) -> str:
    """User text made safe for plotly's HTML-like hover labels, wrapped and shortened."""
    s = html.escape(str(value or ""))[:200]
    return "<br>".join(s[i : i + 60] for i in range(0, len(s), 60))


def _when(value) -> str:
    return value.tz_convert("Europe/London").strftime("%d %b %H:%M") if pd.notna(value) else "-"


def _cell_hover(r) -> str:
    return (
        f"<b>{r.branch}: {r.system_name}</b><br>{r.label}"
        f"<br>since {_when(r.since)}<br>expected {r.eta if pd.notna(r.eta) else '-'}"
        f"<br>{_text(r.note)}"
    )


def status_grid(board: pd.DataFrame) -> go.Figure:
    """Branches across, systems down; cells coloured by state, named in legend and hover."""
    board = board.assign(
        branch=board["branch"].map(html.escape), system_name=board["system_name"].map(html.escape)
    )
    order = board.sort_values(["is_hq", "region", "branch"], ascending=[False, True, True])
    branches = list(dict.fromkeys(order["branch"]))
    systems = list(dict.fromkeys(board["system_name"]))
    codes = {s: i for i, s in enumerate([*STATE_IDS, None])}
    cells = board.assign(code=[codes[s if isinstance(s, str) else None] for s in board["state"]])
    z = cells.pivot(index="system_name", columns="branch", values="code").reindex(
        index=systems, columns=branches
    )
    hover = (
        cells.assign(h=[_cell_hover(r) for r in cells.itertuples()])
        .pivot(index="system_name", columns="branch", values="h")
        .reindex(index=systems, columns=branches)
    )
    n = len(codes)
    scale = []
    for state, i in codes.items():  # one flat band of colour per state code
        scale += [[i / n, STATE_COLOURS[state]], [(i + 1) / n, STATE_COLOURS[state]]]
    fig = go.Figure(
        go.Heatmap(
            z=z.values,
            x=branches,
            y=systems,
            zmin=0,
            zmax=n,
            colorscale=scale,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertext=hover.values,
            hoverinfo="text",
        )
    )
    for state in codes:  # legend entries: the heatmap itself has none
        if state in set(board["state"]) or (state is None and board["state"].isna().any()):
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=STATES[state].label if state else "No report",
                    marker={"symbol": "square", "size": 12, "color": STATE_COLOURS[state]},
                )
            )
    fig.update_xaxes(
        tickangle=-50, showgrid=False, tickmode="array", tickvals=branches, tickfont={"size": 11}
    )
    fig.update_yaxes(autorange="reversed", showgrid=False)
    _layout(fig, "Status of every branch system", height=210 + 34 * len(systems))
    fig.update_layout(
        legend={
            "orientation": "v",
            "x": 1.01,
            "y": 1,
            "xanchor": "left",
            "yanchor": "top",
            "font": {"size": 12},
        }
    )
    return fig


def _mark_incidents(fig: go.Figure, incidents: pd.DataFrame, target: date | None) -> None:
    for i, r in enumerate(incidents.itertuples()):
        fig.add_vline(
            x=r.started_at.tz_convert("Europe/London").date(), line_dash="dot", line_color="#555555"
        )
        fig.add_annotation(
            x=r.started_at.tz_convert("Europe/London").date(),
            y=1 - 0.07 * i,
            yref="paper",
            text=html.escape(r.name),
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 11, "color": "#555555"},
        )
    if target:
        fig.add_vline(x=target, line_dash="dash", line_color="#000000")
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
    fig = go.Figure()
    for band in (Band.IN, Band.RECOVERING, Band.OUT):
        fig.add_trace(
            go.Scatter(
                x=list(daily.index),
                y=daily.get(band.value, []),
                name=band.value.capitalize(),
                stackgroup="bands",
                mode="lines",
                line={"width": 0.5, "color": BAND_COLOURS[band.value]},
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
                fill="toself",
                fillcolor="rgba(0,158,115,0.12)",
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
            line={"dash": "dash", "color": "#006B4E", "width": 2},
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
    fig = go.Figure()
    palette = ["#0072B2", "#E69F00", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
    for i, (name, series) in enumerate(per_system.items()):
        fig.add_trace(
            go.Scatter(
                x=list(series.index),
                y=series,
                name=f"{html.escape(name)} in service",
                mode="lines",
                line={"color": palette[i % len(palette)]},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=list(claimed.index),
            y=claimed,
            name="Back up (claimed by branch)",
            mode="lines",
            line={"dash": "dot", "color": "#555555", "width": 2},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=list(verified.index),
            y=verified,
            name="Restored (verified by HQ)",
            mode="lines",
            line={"color": "#009E73", "width": 3},
        )
    )
    _mark_incidents(fig, incidents, target)
    fig.update_yaxes(title="% of systems", range=[0, 105], ticksuffix="%")
    fig.update_traces(hovertemplate="%{x|%d %b}: %{y:.0f}%<extra>%{fullData.name}</extra>")
    return _layout(fig, "Burn-up: back in service, by system type", height=420)


def slippage_chart(slips: pd.DataFrame, system_names: dict[str, str]) -> go.Figure:
    """How often, and by how many days, expected restoration dates moved, per system type."""
    fig = go.Figure()
    for key, part in slips.groupby("system"):
        label = html.escape(system_names.get(key, key))
        fig.add_trace(
            go.Box(
                y=part["days"],
                name=f"{label} ({len(part)} moves)",
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"size": 6, "color": "#0072B2"},
                line={"color": "#555555"},
                hovertext=[
                    f"{html.escape(b)}: {a} -> {c}"
                    for b, a, c in zip(part["branch"], part["from"], part["to"], strict=True)
                ],
            )
        )
    fig.update_yaxes(title="days moved (later is positive)", zeroline=True, zerolinecolor="#999")
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
    fig = go.Figure()
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
    fig = go.Figure()
    for key, part in done.groupby("system"):
        fig.add_trace(
            go.Box(
                x=part["days"],
                name=html.escape(system_names.get(key, key)),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                orientation="h",
                marker={"size": 5, "color": "#009E73"},
                line={"color": "#555555"},
                hovertext=[html.escape(b) for b in part["branch"]],
            )
        )
    open_now = int(durations["days"].isna().sum())
    title = f"Time to restore: {len(done)} restored"
    title += f", median {done['days'].median():.1f} days" if len(done) else ""
    title += f"; {open_now} still out" if open_now else ""
    fig.update_xaxes(title="days", rangemode="tozero")
    fig = _layout(fig, title, height=320)
    fig.update_layout(showlegend=False)
    return fig
