"""The charts' shared look: one plotly template, and small helpers every chart uses.

Every figure carries TEMPLATE explicitly. Importing Streamlit makes its own template plotly's
process-wide default: placeholder colours that only Streamlit's browser code fills in, and
axes that make no room for their labels, so PNGs drawn in that process (briefing pictures)
lost their labels. In the dashboard, Streamlit's theme still restyles TEMPLATE's defaults.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from restore.palette import GRID, INK, MUTED, SERIES_COLOURS

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


def figure(*traces) -> go.Figure:
    """A new figure on TEMPLATE, whatever the process default template is."""
    return go.Figure(data=list(traces), layout={"template": TEMPLATE})


def layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
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


def tint(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def user_text(value) -> str:
    """User text made safe for plotly's HTML-like hover labels, wrapped and shortened."""
    s = html.escape(str(value or ""))[:200]
    return "<br>".join(s[i : i + 60] for i in range(0, len(s), 60))


def when(value) -> str:
    return value.tz_convert("Europe/London").strftime("%d %b %H:%M") if pd.notna(value) else "-"
