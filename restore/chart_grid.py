"""The status grid: a column per site while that is readable, else a region x system heat map.

Each grid cell is coloured by state, marked with the state's symbol and named in the legend
and on hover; each heat-map cell is coloured by the share in service on a scale whose
lightness rises with the share, and carries that share as a number. User text is
HTML-escaped before it reaches a label. No database, no Streamlit.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from restore import scale
from restore.chart_base import figure as _figure
from restore.chart_base import layout as _layout
from restore.chart_base import user_text as _text
from restore.chart_base import when as _when
from restore.domain import STATE_IDS, STATES
from restore.palette import (
    SHARE_SCALE,
    STATE_COLOURS,
    STATE_SYMBOLS,
    share_text,
    text_on,
)

GRID_TITLE = "Status of every branch system"
HEATMAP_TITLE = "Share in service, by region and system"


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
    """The site grid (site_grid) for up to scale.GRID_MAX_SITES sites; above that, the
    region x system heat map (region_heatmap), since a column per site is unreadable."""
    return region_heatmap(board) if scale.grid_too_wide(board) else site_grid(board)


def site_grid(board: pd.DataFrame, title: str = GRID_TITLE) -> go.Figure:
    """Branches across, systems down; cells coloured by state and marked with its symbol,
    named in the legend and on hover. `title` is plain text (escaped here)."""
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
    _layout(fig, html.escape(title), height=210 + 34 * len(systems))
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


def _share_hover(r) -> str:
    """Hover text for one heat-map cell; region and system name already escaped."""
    return (
        f"<b>{r.region}: {r.system_name}</b><br>{int(r.share)}% in service"
        f"<br>{r.in_service:,} of {r.total:,} ({r.sites:,} sites)"
    )


def _share_label(share: float, in_service: int, total: int, counts: bool) -> str:
    mark = f"{STATE_SYMBOLS['restored']} " if in_service == total else ""
    # Floor, so that 99.6% never reads as 100% while one system is still out.
    label = f"{mark}{int(share)}%"
    return f"{label}<br>{in_service:,}/{total:,}" if counts else label


def region_heatmap(board: pd.DataFrame, title: str = HEATMAP_TITLE) -> go.Figure:
    """Regions down, system types across; each cell coloured by the share of that region's
    systems of that type in service (scale.region_shares), with the share written in it (and
    the counts, when there are few system types), and a colour bar. A fully restored cell
    also carries the restored symbol."""
    shares = scale.region_shares(board)
    shares = shares.assign(
        region=shares["region"].map(lambda v: html.escape(str(v))),
        system_name=shares["system_name"].map(lambda v: html.escape(str(v))),
    )
    regions = list(dict.fromkeys(shares["region"]))
    systems = list(dict.fromkeys(shares["system_name"]))
    wide = shares.pivot(index="region", columns="system_name", values="share")
    hover = shares.assign(h=[_share_hover(r) for r in shares.itertuples()]).pivot(
        index="region", columns="system_name", values="h"
    )
    counts = len(systems) <= 8  # room in each cell for "120/145" under the share
    fig = _figure(
        go.Heatmap(
            z=wide.reindex(index=regions, columns=systems).values,
            x=systems,
            y=regions,
            zmin=0,
            zmax=100,
            colorscale=[[stop, colour] for stop, colour in SHARE_SCALE],
            colorbar={
                "title": {"text": "% in service", "side": "right"},
                "ticksuffix": "%",
                "tickvals": [0, 25, 50, 75, 100],
                "outlinewidth": 0,
                "thickness": 14,
            },
            xgap=2,
            ygap=2,
            hovertext=hover.reindex(index=regions, columns=systems).values,
            hoverinfo="text",
        ),
        go.Scatter(
            x=list(shares["system_name"]),
            y=list(shares["region"]),
            mode="text",
            text=[
                _share_label(r.share, r.in_service, r.total, counts) for r in shares.itertuples()
            ],
            textfont={
                "color": [share_text(s / 100) for s in shares["share"]],
                "size": 12 if len(systems) <= 12 else 11,
            },
            hoverinfo="skip",
            showlegend=False,
        ),
    )
    sites, n_regions = board["branch"].nunique(), len(regions)
    heading = f"{html.escape(title)}: {sites:,} sites in {n_regions:,} regions"
    _layout(fig, heading, height=170 + (44 if counts else 30) * n_regions)
    fig.update_xaxes(side="top", showgrid=False, tickfont={"size": 12},
                     autotickangles=[0, -30, -60, -90])  # fmt: skip
    fig.update_yaxes(autorange="reversed", showgrid=False, tickfont={"size": 12})
    fig.update_layout(showlegend=False, margin={"t": 90})
    return fig
