"""Charts keep their own look when Streamlit is imported, mark every grid cell with its
state's symbol, and come with text alternatives whose numbers match the data."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import plotly.io as pio
import pytest

from restore import chart_text, charts, figures, palette, queries, schema, timelines
from restore.demo import seed_demo
from restore.domain import STATE_IDS, STATES, Band
from restore.store import Store

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Every chart's inputs from the demo story, built as the overview builds them."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('charts') / 'restore.db'}")
    schema.upgrade(store)
    seed_demo(store, start=NOW.date() - timedelta(weeks=8), now=NOW)
    board = queries.board_as_of(store, NOW)
    daily = queries.progress(store, until=NOW, freq="D")
    incidents = queries.incidents_frame(store)
    change = queries.in_service_change(store, NOW - timedelta(days=1), until=NOW)
    head = figures.headline(board, change, daily, incidents, NOW)
    names = dict(zip(board["system"], board["system_name"], strict=False))
    per_system = {
        names[key]: 100 * part["in service"] / int((board["system"] == key).sum())
        for key, part in queries.progress_by_system(store, until=NOW, freq="D").items()
    }
    verified = 100 * (daily["operational"] + daily["restored"] + daily["degraded"]) / head.total
    store_frames = {
        "slips": timelines.slippage(store, until=NOW),
        "durations": timelines.durations(store, until=NOW),
        "segments": timelines.segments(store, until=NOW),
    }
    store.dispose()
    return {
        "board": board,
        "daily": daily,
        "incidents": incidents,
        "fc": head.forecast,
        "target": head.forecast.target,
        "total": head.total,
        "names": names,
        "per_system": per_system,
        "verified": verified,
        "claimed": verified + 100 * daily["verifying"] / head.total,
        **store_frames,
    }


def build(name: str, d: dict) -> list:
    """The arguments of charts.<name> (and chart_text.<name>), from the demo's inputs."""
    args = {
        "status_grid": ("board",),
        "region_heatmap": ("board",),
        "progress_chart": ("daily", "incidents", "fc", "total"),
        "burnup_chart": ("per_system", "claimed", "verified", "incidents", "target"),
        "slippage_chart": ("slips", "names"),
        "timeline_chart": ("segments",),
        "ttr_chart": ("durations", "names"),
    }[name]
    return [d[a] for a in args]


CHARTS = [
    "status_grid",
    "region_heatmap",
    "progress_chart",
    "burnup_chart",
    "slippage_chart",
    "timeline_chart",
    "ttr_chart",
]


@pytest.fixture(scope="module")
def streamlit_imported():
    """Streamlit imported, as in the dashboard process: it swaps plotly's default template."""
    import streamlit  # noqa: F401

    assert pio.templates.default == "streamlit"


# --- the template ---------------------------------------------------------------------


def _resolved(fig, path: str, default=None):
    """A layout value as plotly.js resolves it: the figure's own, else its template's."""
    for layout in (fig.layout, fig.layout.template.layout):
        value = layout[path]
        if value is not None:
            return {"white": "#FFFFFF", "black": "#000000"}.get(value, value)
    return default


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_keeps_its_own_template_after_streamlit_is_imported(
    streamlit_imported, demo, name
):
    fig = getattr(charts, name)(*build(name, demo))
    assert fig.layout.template.to_plotly_json() == charts.TEMPLATE.to_plotly_json()
    assert "#000001" not in str(fig.to_dict())  # Streamlit's placeholder colours


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_has_dark_text_and_room_for_its_labels(streamlit_imported, demo, name):
    fig = getattr(charts, name)(*build(name, demo))
    paper = _resolved(fig, "paper_bgcolor", "#FFFFFF")
    ink = _resolved(fig, "font.color", "#444444")  # plotly.js's own default
    assert palette.contrast(ink, paper) >= 7
    assert palette.contrast(_resolved(fig, "title.font.color", ink), paper) >= 7
    for axis in ("xaxis", "yaxis"):
        for part in ("tickfont.color", "title.font.color"):
            assert palette.contrast(_resolved(fig, f"{axis}.{part}", ink), paper) >= 7
        # Without automargin the tick labels are drawn outside the 10 px margins: cut off.
        assert _resolved(fig, f"{axis}.automargin") is True, axis


_PNG = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
import test_charts
assert "streamlit" not in sys.modules
sys.stdout.buffer.write(test_charts.tiny_grid_png())
"""


def tiny_board() -> pd.DataFrame:
    """Three branches by three systems, every state once, and no report once."""
    states = [*STATE_IDS, None]
    rows = []
    for i, state in enumerate(states):
        rows.append(
            {
                "branch": f"Branch {i // 3}",
                "region": "North" if i < 6 else "South",
                "is_hq": False,
                "system": f"s{i % 3}",
                "system_name": ["Public website", "The Hub", "Email"][i % 3],
                "state": state,
                "label": STATES[state].label if state else "No report",
                "band": STATES[state].band.value if state else "unknown",
                "since": pd.Timestamp(NOW),
                "eta": None,
                "note": "",
            }
        )
    return pd.DataFrame(rows)


def tiny_grid_png() -> bytes:
    return charts.status_grid(tiny_board()).to_image(format="png", width=700, height=330)


@pytest.mark.skipif(not shutil.which("chromium"), reason="kaleido needs Chromium")
def test_a_picture_drawn_after_importing_streamlit_matches_one_drawn_without(
    streamlit_imported,
):
    from PIL import Image, ImageChops

    script = _PNG.format(root=str(ROOT), tests=str(ROOT / "tests"))
    fresh = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, timeout=120
    ).stdout
    here = tiny_grid_png()
    a, b = (Image.open(io.BytesIO(png)).convert("RGB") for png in (here, fresh))
    assert a.size == b.size
    diff = ImageChops.difference(a, b).convert("L")
    changed = sum(diff.histogram()[33:])  # pixels that differ by more than a shade
    assert changed <= 0.001 * a.size[0] * a.size[1]  # antialiasing noise at most


# --- the status grid's symbols ------------------------------------------------------------


def _symbols(fig) -> dict[tuple[str, str], tuple[str, str]]:
    """(branch, system) -> (symbol, text colour), from the grid's text trace."""
    (trace,) = [t for t in fig.data if t.type == "scatter" and t.mode == "text"]
    colours = trace.textfont.color
    return {
        (x, y): (text, colour)
        for x, y, text, colour in zip(trace.x, trace.y, trace.text, colours, strict=True)
    }


def test_every_grid_cell_carries_its_states_symbol():
    board = tiny_board()
    marks = _symbols(charts.status_grid(board))
    assert len(marks) == len(board) == 9
    for r in board.itertuples():
        state = r.state if isinstance(r.state, str) else None  # pandas keeps None as NaN
        assert marks[(r.branch, r.system_name)][0] == palette.STATE_SYMBOLS[state]


def test_grid_symbols_are_readable_on_their_cells():
    board = tiny_board()
    marks = _symbols(charts.status_grid(board))
    for r in board.itertuples():
        text = marks[(r.branch, r.system_name)][1]
        cell = palette.STATE_COLOURS[r.state if isinstance(r.state, str) else None]
        assert palette.contrast(text, cell) >= 4.5, r.state  # WCAG AA for normal text
        dark_text = palette.luminance(text) < 0.2
        assert dark_text == (palette.luminance(cell) > 0.2), r.state


def test_grid_legend_names_each_state_with_its_symbol():
    fig = charts.status_grid(tiny_board())
    names = {t.name for t in fig.data if t.showlegend is not False and t.name}
    assert "✓ Restored" in names and "X Outage" in names and "? No report" in names
    assert len(names) == 9


def test_grid_escapes_branch_names_in_labels_and_symbols():
    board = tiny_board().assign(branch=lambda b: b["branch"].str.replace("Branch 0", "<b>0</b>"))
    fig = charts.status_grid(board)
    assert "&lt;b&gt;0&lt;/b&gt;" in fig.data[0].x
    assert all("<b>" not in x for t in fig.data if t.x is not None for x in t.x if x)


def test_chart_colours_come_from_the_palette():
    assert charts.STATE_COLOURS is palette.STATE_COLOURS
    assert charts.BAND_COLOURS is palette.BAND_COLOURS


# --- text alternatives ------------------------------------------------------------------


def test_grid_text_counts_match_the_board(demo):
    board = demo["board"]
    alt = chart_text.status_grid(board)
    bands = board["band"].value_counts()
    n_branches = board["branch"].nunique()
    assert alt.summary.startswith(
        f"{bands.get('in service', 0)} of {len(board)} systems in service across "
        f"{n_branches} branches; {bands.get('recovering', 0)} recovering, "
        f"{bands.get('out of service', 0)} out of service"
    )
    full = board.groupby("branch")["band"].apply(lambda b: (b == "in service").all()).sum()
    assert f"; {full} of {n_branches} branches fully in service." in alt.summary
    assert list(alt.table.columns) == ["Branch", *dict.fromkeys(board["system_name"])]
    assert len(alt.table) == n_branches and alt.table["Branch"].iloc[0] == "Headquarters"
    cells = alt.table.melt(id_vars="Branch", var_name="system_name", value_name="label")
    merged = cells.merge(
        board, left_on=["Branch", "system_name"], right_on=["branch", "system_name"]
    )
    assert len(merged) == len(board) and (merged["label_x"] == merged["label_y"]).all()


def test_grid_text_counts_no_report_and_caps_its_rows():
    board = pd.concat(
        [tiny_board().assign(branch=lambda b, i=i: b["branch"] + f" {i}") for i in range(40)]
    )
    alt = chart_text.site_grid(board)  # past 60 sites, status_grid describes the heat map
    assert "3 recovering, 2 out of service" not in alt.summary  # 40 copies of each
    assert "120 recovering, 80 out of service, 40 with no report" in alt.summary
    assert len(alt.table) == chart_text.MAX_BRANCHES < board["branch"].nunique() == 120
    assert f"first {chart_text.MAX_BRANCHES} of 120 branches" in alt.summary


def test_progress_text_matches_the_last_day_and_shows_two_weeks(demo):
    daily, total = demo["daily"], demo["total"]
    alt = chart_text.progress_chart(daily, demo["incidents"], demo["fc"], total)
    last = daily.iloc[-1]
    day = f"{daily.index[-1]:%-d %b %Y}"
    assert alt.summary.startswith(
        f"{last['in service']} of {total} systems in service on {day}; "
        f"{last['recovering']} recovering, {last['out of service']} out of service"
    )
    assert f"all back in service by {demo['fc'].likely:%-d %b %Y}" in alt.summary
    assert len(alt.table) == chart_text.DAYS and alt.table["Date"].iloc[-1] == day
    tail = daily.tail(chart_text.DAYS)
    assert alt.table["In service"].to_list() == tail["in service"].to_list()
    assert alt.table["Out of service"].to_list() == tail["out of service"].to_list()
    assert (alt.table.drop(columns="Date").sum(axis=1) == total).all()


def test_progress_text_says_how_many_have_no_report():
    daily = pd.DataFrame(
        {"in service": [1, 2], "recovering": [3, 3], "out of service": [4, 2]},
        index=[date(2026, 3, 1), date(2026, 3, 2)],
    )
    alt = chart_text.progress_chart(daily, pd.DataFrame(), None, total=10)
    assert alt.summary == (
        "2 of 10 systems in service on 2 Mar 2026; 3 recovering, 2 out of service, "
        "3 with no report."
    )
    assert alt.table[chart_text.NO_REPORT].to_list() == [2, 3]


def test_burnup_text_quotes_the_latest_percentages(demo):
    args = build("burnup_chart", demo)
    alt = chart_text.burnup_chart(*args)
    assert f"{demo['verified'].iloc[-1]:.0f}% of systems were restored and verified" in alt.summary
    assert f"{demo['claimed'].iloc[-1]:.0f}% back up as claimed" in alt.summary
    for name, series in demo["per_system"].items():
        assert f"{name} {series.iloc[-1]:.0f}%" in alt.summary
        assert alt.table[f"{name} in service (%)"].iloc[-1] == round(series.iloc[-1])
    assert len(alt.table) == chart_text.DAYS


def test_slippage_text_counts_moves_and_lists_the_largest_first():
    n = chart_text.MAX_ROWS + 10
    slips = pd.DataFrame(
        {
            "branch": [f"B{i}" for i in range(n)],
            "system": ["hub"] * (n - 1) + ["email"],
            "at": [pd.Timestamp(NOW) - pd.Timedelta(days=i) for i in range(n)],
            "from": [date(2026, 3, 1)] * n,
            "to": [date(2026, 3, 1) + timedelta(days=i - 2) for i in range(n)],
            "days": [i - 2 for i in range(n)],
        }
    )
    alt = chart_text.slippage_chart(slips, {"hub": "The Hub"})
    assert alt.summary.startswith(
        f"Expected restoration dates moved {n} times: {n - 3} later, 2 earlier; "
        f"median move {slips['days'].median():.0f} days; most often for The Hub ({n - 1})."
    )
    assert len(alt.table) == chart_text.MAX_ROWS
    assert alt.table["Days later"].iloc[0] == n - 3 and alt.table["Branch"].iloc[0] == f"B{n - 1}"
    assert alt.table["System"].iloc[0] == "email"  # no name given: the key


def test_ttr_text_matches_the_durations(demo):
    durations = demo["durations"]
    alt = chart_text.ttr_chart(durations, demo["names"])
    days = durations["days"].dropna()
    assert alt.summary == (
        f"{len(days)} outages ended, after a median of {days.median():.1f} days "
        f"(fastest {days.min():.1f}, slowest {days.max():.1f}); "
        f"{durations['days'].isna().sum()} still out."
    )
    assert alt.table["Restored"].sum() == len(days)
    assert alt.table["Still out"].sum() == durations["days"].isna().sum()


def _segment(branch, system, state, start_day, end_day):
    t0 = pd.Timestamp("2026-03-01", tz="UTC")
    return {
        "branch": branch,
        "system": system,
        "state": state,
        "start": t0 + pd.Timedelta(days=start_day),
        "end": t0 + pd.Timedelta(days=end_day),
        "band": STATES[state].band.value,
    }


def test_timeline_text_adds_up_each_systems_time_out():
    segments = pd.DataFrame(
        [
            _segment("Kent", "email", "outage", 0, 2),
            _segment("Kent", "email", "rebuilding", 2, 5),
            _segment("Kent", "email", "restored", 5, 9),
            _segment("Kent", "hub", "operational", 0, 9),
            _segment("Essex", "hub", "contained", 1, 9),
        ]
    )
    alt = chart_text.timeline_chart(segments, {"email": "Email", "hub": "The Hub"})
    assert alt.summary == (
        "2 branch systems lost service at some point; 1 not back in service yet. "
        "Longest: Essex The Hub, 8.0 days out of service or recovering."
    )
    rows = alt.table.set_index(["Branch", "System"])
    assert rows.loc[("Kent", "Email"), "Days out of service"] == 2.0
    assert rows.loc[("Kent", "Email"), "Days recovering"] == 3.0
    assert rows.loc[("Kent", "Email"), "Now"] == "Restored"
    assert ("Kent", "The Hub") not in rows.index  # never lost


def test_timeline_text_keeps_only_the_longest(demo):
    alt = chart_text.timeline_chart(demo["segments"], demo["names"])
    assert len(alt.table) == chart_text.MAX_ROWS
    total = alt.table["Days out of service"] + alt.table["Days recovering"]
    assert (total.diff().dropna() <= 0.1 + 1e-9).all()  # longest first, to rounding
    lost = demo["segments"][demo["segments"]["band"] != Band.IN.value]
    assert f"{lost.groupby(['branch', 'system']).ngroups} branch systems lost" in alt.summary


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_has_a_text_alternative_even_with_no_data(demo, name):
    empty = {
        k: v.iloc[0:0] if isinstance(v, pd.DataFrame | pd.Series) else v for k, v in demo.items()
    }
    empty["per_system"] = {}
    alt = getattr(chart_text, name)(*build(name, empty))
    assert isinstance(alt, chart_text.Alt) and alt.summary.endswith(".") and alt.table.empty
