"""DataFrames -> plotly figures. No database, no Streamlit.

Colours come from restore.palette (checked to stay apart under the common colour-vision
deficiencies), and every colour is also named in a legend and on hover, and marked with a
symbol on the status grid, so none is the only cue. User text (branch and system names,
notes) is HTML-escaped before it reaches a label.

Every figure carries TEMPLATE explicitly. Importing Streamlit makes its own template plotly's
process-wide default: placeholder colours that only Streamlit's browser code fills in, and
axes that make no room for their labels, so PNGs drawn in that process (briefing pictures)
lost their labels. In the dashboard, Streamlit's theme still restyles TEMPLATE's defaults.
"""

from __future__ import annotations

import html
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from restore.domain import STATE_IDS, STATES, Band
from restore.figures import Forecast
from restore.palette import (  # STATE_COLOURS, BAND_COLOURS: also imported from here
    BAND_COLOURS,
    GRID,
    INK,
    MUTED,
    SERIES_COLOURS,
    STATE_COLOURS,
    STATE_SYMBOLS,
    text_on,
)

FONT = {"family": "Source Sans Pro, Arial, sans-serif", "size": 13}


def _template() -> go.layout.Template:
    """plotly_white with our ink, grid and series colours, and margins that grow to fit labels."""
    axis = {
        "automargin": True,
        "color": INK,
        "gridcolor": GRID,
        "linecolor": MUTED,
        "zerolinecolor": MUTED,
        "tickfont": {"color": INK},
        "title": {"font": {"color": INK}},
    }
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.update(
        font={**FONT, "color": INK},
        title={"font": {"color": INK}},
        legend={"font": {"color": INK}},
        paper_bgcolor="#FFFFFF",
        plot_bgcolor="#FFFFFF",
        colorway=list(SERIES_COLOURS),
        hoverlabel={"font": {"color": INK}, "bgcolor": "#FFFFFF", "bordercolor": MUTED},
        xaxis=axis,
        yaxis=axis,
    )
    return template


TEMPLATE = _template()
pio.templates["restore"] = TEMPLATE  # by name too, for anyone drawing alongside these charts


def _figure(*traces) -> go.Figure:
    """A new figure on TEMPLATE, whatever the process default template is."""
    return go.Figure(data=list(traces), layout={"template": TEMPLATE})


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font=FONT,
        plot_bgcolor="white",
        # Anchored to the foot of the figure, not the plot, so tall charts keep it close.
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
        },
        hoverlabel={"align": "left"},
    )
    fig.update_xaxes(showgrid=True)
    fig.update_yaxes(showgrid=True)
    return fig


def _tint(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


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


def state_name(state: str | None) -> str:
    """A state's legend entry: its grid symbol, then its label ("✓ Restored")."""
    return f"{STATE_SYMBOLS[state]} {STATES[state].label if state else 'No report'}"


def _state_or_none(value) -> str | None:
    return value if isinstance(value, str) else None


def _cell_symbols(cells: pd.DataFrame) -> go.Scatter:
    """Each cell's state symbol, dark on light colours and white on dark ones."""
    states = [_state_or_none(s) for s in cells["state"]]
    return go.Scatter(
        x=list(cells["branch"]),
        y=list(cells["system_name"]),
        mode="text",
        text=[STATE_SYMBOLS[s] for s in states],
        textfont={"color": [text_on(STATE_COLOURS[s]) for s in states], "size": 12},
        hoverinfo="skip",
        showlegend=False,
    )


def status_grid(board: pd.DataFrame) -> go.Figure:
    """Branches across, systems down; cells coloured by state and marked with its symbol,
    named in the legend and on hover."""
    board = board.assign(
        branch=board["branch"].map(html.escape), system_name=board["system_name"].map(html.escape)
    )
    order = board.sort_values(["is_hq", "region", "branch"], ascending=[False, True, True])
    branches = list(dict.fromkeys(order["branch"]))
    systems = list(dict.fromkeys(board["system_name"]))
    codes = {s: i for i, s in enumerate([*STATE_IDS, None])}
    cells = board.assign(code=[codes[_state_or_none(s)] for s in board["state"]])
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
    fig = _figure(
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
        ),
        _cell_symbols(cells),
    )
    present = {_state_or_none(s) for s in board["state"]}
    for state in codes:  # legend entries: the heatmap itself has none
        if state in present:
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=state_name(state),
                    marker={"symbol": "square", "size": 12, "color": STATE_COLOURS[state]},
                )
            )
    _layout(fig, "Status of every branch system", height=210 + 34 * len(systems))
    fig.update_xaxes(
        autotickangles=[-50, -90],  # upright when the branch names would collide
        showgrid=False,
        tickmode="array",
        tickvals=branches,
        tickfont={"size": 11},
    )
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_layout(
        legend={
            "orientation": "v",
            "yref": "paper",
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
        fig.add_trace(
            go.Box(
                y=part["days"],
                name=f"{label} ({len(part)} moves)",
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"size": 6, "color": SERIES_COLOURS[0]},
                line={"color": MUTED},
                hovertext=[
                    f"{html.escape(b)}: {a} -> {c}"
                    for b, a, c in zip(part["branch"], part["from"], part["to"], strict=True)
                ],
            )
        )
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
            go.Box(
                x=part["days"],
                name=html.escape(system_names.get(key, key)),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                orientation="h",
                marker={"size": 5, "color": STATE_COLOURS["restored"]},
                line={"color": MUTED},
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
