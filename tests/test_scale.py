"""Charts and lists that scale (issue 9): past 60 sites the status grid becomes a region x
system heat map with a drill-down, past 200 rows the outage timeline shows the slowest 50 or
one region, and the public page and the briefing group by region and cap what they name.
The overview redraws its figures every 30 seconds in a fragment, filters untouched."""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import live_demo_moment
from streamlit.testing.v1 import AppTest

from restore import (
    briefing,
    chart_text,
    charts,
    palette,
    public_status,
    queries,
    scale,
    schema,
    sites,
)
from restore.briefing_pdf import to_pdf
from restore.chart_base import user_text
from restore.directory import SYSTEM
from restore.domain import STATE_IDS, STATES, Band
from restore.queries import Filters
from restore.ui import data

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
IN = Band.IN.value
REGIONS = ("North", "South", "East", "West", "Midlands")
SYSTEM_NAMES = ("Public website", "The Hub", "Email")


def big_board(n_sites: int, regions=REGIONS, systems=SYSTEM_NAMES) -> pd.DataFrame:
    """n_sites sites round the regions, every state in turn (and no report), so that each
    region x system cell has its own mix."""
    states = [*STATE_IDS, None]
    rng = random.Random(9)
    rows = []
    for i in range(n_sites):
        for j, name in enumerate(systems):
            state = rng.choice(states)
            rows.append(
                {
                    "branch": f"Site {i:04d}",
                    "slug": f"site-{i:04d}",
                    "region": regions[i % len(regions)],
                    "is_hq": False,
                    "system": f"s{j}",
                    "system_name": name,
                    "state": state,
                    "label": STATES[state].label if state else "No report",
                    "band": STATES[state].band.value if state else "never reported",
                    "since": pd.Timestamp(NOW - timedelta(days=i % 30)) if state else pd.NaT,
                    "at": pd.Timestamp(NOW - timedelta(days=i % 30)) if state else pd.NaT,
                    "eta": (NOW - timedelta(days=2)).date() if i % 11 == 0 else None,
                    "note": "",
                    "workaround": "",
                    "updated_by": "hq.it",
                }
            )
    return pd.DataFrame(rows)


def expected_shares(board: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(region, system name) -> % in service, counted row by row."""
    up, n = Counter(), Counter()
    for r in board.to_dict("records"):
        cell = (r["region"], r["system_name"])
        n[cell] += 1
        up[cell] += r["band"] == IN
    return {cell: 100 * up[cell] / n[cell] for cell in n}


def heat_cells(fig) -> dict[tuple[str, str], float]:
    (heat,) = [t for t in fig.data if t.type == "heatmap"]
    return {
        (region, system): value
        for region, row in zip(heat.y, heat.z, strict=True)
        for system, value in zip(heat.x, row, strict=True)
    }


# --- status grid and heat map ------------------------------------------------------------


def test_up_to_60_sites_the_status_grid_keeps_a_column_per_site():
    board = big_board(scale.GRID_MAX_SITES)
    fig = charts.status_grid(board)
    assert fig.layout.title.text == "Status of every branch system"
    assert set(fig.data[0].x) == set(board["branch"]) and len(fig.data[0].x) == 60
    assert chart_text.status_grid(board).summary == chart_text.site_grid(board).summary


def test_past_60_sites_the_grid_is_a_heat_map_of_the_share_in_service():
    board = big_board(300)
    fig = charts.status_grid(board)
    assert [t.type for t in fig.data].count("heatmap") == 1
    assert fig.layout.title.text.startswith("Share in service, by region and system: 300 sites")
    cells = heat_cells(fig)
    want = expected_shares(board)
    assert set(cells) == set(want) and len(cells) == 5 * 3
    assert len(set(want.values())) > 3  # a real mix, not one value everywhere
    for cell, share in want.items():
        assert math.isclose(cells[cell], share), cell
    (heat,) = [t for t in fig.data if t.type == "heatmap"]
    assert (heat.zmin, heat.zmax) == (0, 100) and heat.showscale is not False


def test_each_heat_map_cell_says_its_share_readably_on_its_colour():
    board = big_board(300)
    board.loc[(board["region"] == "East") & (board["system"] == "s1"), ["state", "band"]] = [
        "restored",
        IN,
    ]
    fig = charts.status_grid(board)
    (marks,) = [t for t in fig.data if t.type == "scatter" and t.mode == "text"]
    want = expected_shares(board)
    for region, system, text, ink in zip(
        marks.y, marks.x, marks.text, marks.textfont.color, strict=True
    ):
        share = want[(region, system)]
        first = text.split("<br>")[0]
        if share == 100:
            assert first == "✓ 100%"
        else:
            assert first == f"{math.floor(share)}%"  # never rounded up to a false 100%
        n = int((board["region"] == region).sum() / 3)
        assert text.split("<br>")[1].endswith(f"/{n}")  # few system types: counts too
        assert palette.contrast(ink, palette.share_colour(share / 100)) >= 4.5


def test_the_heat_map_escapes_region_and_system_names():
    board = big_board(100).replace({"region": {"North": "<b>North</b>"}})
    fig = charts.status_grid(board)
    (heat,) = [t for t in fig.data if t.type == "heatmap"]
    assert "&lt;b&gt;North&lt;/b&gt;" in heat.y and "<b>North</b>" not in heat.y
    hovers = [h for row in heat.hovertext for h in row]
    assert any("&lt;b&gt;North&lt;/b&gt;: Email" in h for h in hovers)
    assert not any("&amp;lt;" in h or "<b>North</b>" in h for h in hovers)  # escaped once


def test_the_share_scale_darkens_as_less_is_in_service_under_every_vision():
    for vision in palette.VISIONS:
        lightness = [
            palette.to_lab(palette.simulate(palette.share_colour(i / 100), vision))[0]
            for i in range(101)
        ]
        assert all(b >= a for a, b in pairwise(lightness)), vision
        assert lightness[-1] - lightness[0] > 60, vision
    assert palette.share_colour(0) == palette.SHARE_SCALE[0][1]
    assert palette.share_colour(1) == palette.SHARE_SCALE[-1][1]


def test_the_heat_maps_text_gives_each_regions_share_per_system():
    board = big_board(300)
    alt = chart_text.status_grid(board)
    assert "across 300 sites in 5 regions" in alt.summary
    want = expected_shares(board)
    worst = min(want, key=lambda c: (want[c], c[0]))
    assert f"furthest behind: {worst[1]} in {worst[0]}, {math.floor(want[worst])}%" in alt.summary
    table = alt.table.set_index("Region")
    assert list(table.index) == sorted(REGIONS) and (table["Sites"] == 60).all()
    for (region, system), share in want.items():
        assert table.loc[region, f"{system} %"] == math.floor(share)


def test_drilling_into_a_region_draws_the_ordinary_grid_of_its_sites_60_a_page():
    board = big_board(700)  # 140 sites a region: three pages of grid
    north = set(board.loc[board["region"] == "North", "branch"])
    seen = []
    for page in (1, 2, 3):
        part = scale.region_sites(board, "North", page=page)
        fig = charts.site_grid(part.frame, title="Status of every branch system in North")
        assert fig.layout.title.text == "Status of every branch system in North"
        assert set(part.frame["region"]) == {"North"} and part.pages == 3
        assert len(set(fig.data[0].x)) == (60 if page < 3 else 20)
        seen += list(dict.fromkeys(fig.data[0].x))
    assert sorted(seen) == sorted(north)  # every site once, none twice
    last = scale.region_sites(board, "North", page=3)
    assert last.caption == "Sites 121-140 of 140 (page 3 of 3)."
    assert scale.region_sites(board, "North", page=9).page == 3  # past the end: the last page


# --- outage timeline --------------------------------------------------------------------


def timeline_segments(n_rows: int, regions=REGIONS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n_rows branch systems, each out for a known time; every third still out at NOW.
    Returns (segments, board)."""
    rows, board = [], []
    for i in range(n_rows):
        branch, system = f"Site {i // 2:04d}", f"s{i % 2}"
        lost = NOW - timedelta(days=40)
        back = lost + timedelta(hours=10 + (i * 37) % 500)
        still_out = i % 3 == 0
        rows.append(
            {"branch": branch, "system": system, "state": "outage", "start": lost,
             "end": NOW if still_out else back, "band": Band.OUT.value}
        )  # fmt: skip
        if not still_out:
            rows.append(
                {"branch": branch, "system": system, "state": "restored", "start": back,
                 "end": NOW, "band": IN}
            )  # fmt: skip
        board.append({"branch": branch, "region": regions[(i // 2) % len(regions)]})
    segments = pd.DataFrame(rows)
    for col in ("start", "end"):
        segments[col] = pd.to_datetime(segments[col], utc=True)
    return segments, pd.DataFrame(board).drop_duplicates("branch")


def _rows_drawn(fig) -> set[str]:
    return {y for t in fig.data for y in t.y}


def test_a_timeline_of_up_to_200_rows_is_drawn_whole():
    segments, board = timeline_segments(scale.TIMELINE_MAX_ROWS)
    assert not scale.timeline_too_long(segments)
    picked = scale.choose_timeline(segments, board)
    assert picked.caption == "" and picked.shown == picked.total == 200
    assert len(_rows_drawn(charts.timeline_chart(picked.segments))) == 200


def test_past_200_rows_the_timeline_shows_the_50_slowest_still_out_first():
    segments, board = timeline_segments(300)
    assert scale.timeline_too_long(segments)
    picked = scale.choose_timeline(segments, board)
    # Independently: still-out rows first (all out for 40 days), then the longest outages.
    days = defaultdict(float)
    out_now = {}
    for r in segments.sort_values("start").to_dict("records"):
        key = (r["branch"], r["system"])
        if r["band"] != IN:
            days[key] += (r["end"] - r["start"]).total_seconds() / 86400
        out_now[key] = r["band"] != IN
    ranked = sorted(days, key=lambda k: (not out_now[k], -days[k], k))
    want = {f"{b} · {s}" for b, s in ranked[:50]}
    assert sum(out_now.values()) == 100 and all(out_now[k] for k in ranked[:50])
    assert _rows_drawn(charts.timeline_chart(picked.segments)) == want
    assert (picked.shown, picked.total) == (50, 300)
    assert "the 50 slowest of the 300 branch systems" in picked.caption
    assert "250 of 300 left out" in picked.caption


def test_the_long_timeline_can_show_one_region_instead():
    segments, board = timeline_segments(300)
    assert scale.timeline_options(board) == [scale.SLOWEST_CHOICE, *sorted(REGIONS)]
    picked = scale.choose_timeline(segments, board, choice="East")
    east = set(board.loc[board["region"] == "East", "branch"])
    want = {(b, s) for b, s in zip(segments["branch"], segments["system"], strict=True)
            if b in east}  # fmt: skip
    drawn = set(zip(picked.segments["branch"], picked.segments["system"], strict=True))
    assert drawn == want and picked.shown == len(want) == 60
    assert picked.caption.startswith("The outage timeline shows the 60 branch systems in East")
    assert "240 of 300 left out" in picked.caption


# --- public page and briefing --------------------------------------------------------------


def test_the_public_page_sums_up_each_region_and_lists_50_branches_a_page():
    board = big_board(300)
    lines = public_status.region_lines(board)
    assert len(lines) == 5
    for region, line in zip(sorted(REGIONS), lines, strict=True):
        part = board[board["region"] == region]
        up = int((part["band"] == IN).sum())
        hit = part.groupby("branch")["band"].apply(lambda b: (b != IN).any()).sum()
        assert line == (
            f"{region}: {up} of 180 services working; {hit} of 60 branches with a service "
            "not working."
        )
    pages = [public_status.listing(board, page=p) for p in range(1, 7)]
    assert {p.pages for p in pages} == {6}
    assert all(p.frame["slug"].nunique() == 50 for p in pages)
    slugs = [s for p in pages for s in dict.fromkeys(p.frame["slug"])]
    assert sorted(slugs) == sorted(board["slug"].unique())  # every branch once
    assert list(pages[0].frame.columns)[:3] == ["Branch", "slug", "Service"]
    south = public_status.listing(board, region="South")
    assert south.pages == 2 and south.caption == "Branches 1-50 of 60 (page 1 of 2)."
    assert set(south.frame["slug"]) <= set(board.loc[board["region"] == "South", "slug"])


def _briefing(board: pd.DataFrame) -> briefing.Briefing:
    empty = pd.DataFrame(columns=["name", "started_at", "target_date"])
    episodes = pd.DataFrame(columns=["branch", "system", "down_at", "restored_at", "days"])
    daily = pd.DataFrame(columns=[b.value for b in Band])
    return briefing.compose(briefing.Inputs(board, 0, daily, empty, episodes), NOW)


def test_the_briefing_counts_still_out_per_region_and_names_at_most_10_each():
    board = big_board(300)
    b = _briefing(board)
    out = board[board["band"] != IN]
    assert [r["region"] for r in b.still_out_regions] == sorted(REGIONS)
    for r in b.still_out_regions:
        mine = out[out["region"] == r["region"]]
        named = [i for i in b.still_out if i["region"] == r["region"]]
        assert r["still_out"] == len(mine) > scale.NAMED_PER_REGION
        reported = mine["band"].isin([Band.OUT.value, Band.RECOVERING.value])
        assert r["overdue"] == int((mine["eta"].notna() & reported).sum())  # due 2 days ago
        assert len(named) == scale.NAMED_PER_REGION and r["more"] == len(mine) - 10
        flags = [i["overdue"] for i in named]
        assert flags == sorted(flags, reverse=True)  # overdue ones are named first
    md = briefing.to_markdown(b)
    section = md[md.index("## Still out") : md.index("## Risks")]
    assert section.count("| Site ") == 5 * 10
    east = next(r for r in b.still_out_regions if r["region"] == "East")
    assert f"_and {east['more']} more in East._" in section
    assert f"{len(out)} branch systems are not in service" in section


def test_the_briefings_length_does_not_grow_with_the_number_of_sites():
    huge = big_board(1000)
    small, large = _briefing(big_board(300)), _briefing(huge)
    assert len(large.still_out) == len(small.still_out) == 50
    md_small, md_large = briefing.to_markdown(small), briefing.to_markdown(large)
    assert md_large.count("\n") < md_small.count("\n") + 10
    assert sum(r["still_out"] for r in large.still_out_regions) == (huge["band"] != IN).sum()
    text = to_pdf(large)
    assert len(text) < 3 * len(to_pdf(small))


def test_a_briefing_published_before_regions_were_kept_still_renders_its_flat_list():
    old = _briefing(big_board(70)).to_json()
    old.pop("still_out_regions")
    old["still_out"] = [{k: v for k, v in r.items() if k != "region"} for r in old["still_out"]]
    b = briefing.Briefing(**old)
    md = briefing.to_markdown(b)
    assert md[md.index("## Still out") :].count("| Site ") == len(b.still_out)
    assert to_pdf(b).startswith(b"%PDF")


# --- the overview, live, with a big organisation --------------------------------------------


@pytest.fixture(scope="module")
def big_org(tmp_path_factory):
    """An organisation of 70 sites in five regions, plus the demo's own 44, with the demo
    story played over all of them."""
    from restore.demo import seed_demo
    from restore.store import Store

    path = tmp_path_factory.mktemp("big") / "big.db"
    store = Store(f"sqlite:///{path}")
    schema.upgrade(store)
    csv = "name,slug,region\n" + "".join(
        f"Site {i:03d},site-{i:03d},{REGIONS[i % 5]}\n" for i in range(70)
    )
    sites.load(
        store,
        SYSTEM,
        branch_csv=csv.encode(),
        system_csv=b"key,name\nwebsite,Public website\nhub,The Hub\nemail,Email\n",
    )
    start, now = live_demo_moment()
    seed_demo(store, start=start, now=now)
    store.dispose()
    return path


@pytest.fixture
def big_app(big_org, tmp_path, monkeypatch):
    path = tmp_path / "restore.db"
    shutil.copy(big_org, path)
    monkeypatch.setenv("RESTORE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("RESTORE_COOKIE_ROUTES", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    from restore.store import Store

    store = Store(f"sqlite:///{path}")
    yield store
    store.dispose()
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_overview_of_a_big_organisation_is_a_live_heat_map_with_a_drill_down(
    big_app, monkeypatch
):
    from streamlit.testing.v1 import local_script_runner

    from restore.auth import start_session
    from restore.ui.session import SESSION_KEY

    sent = []
    parse = local_script_runner.parse_tree_from_messages

    def keep(messages):
        sent[:] = list(messages)
        return parse(messages)

    monkeypatch.setattr(local_script_runner, "parse_tree_from_messages", keep)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = start_session(big_app, "hq.it")
    data.COMPUTED.clear()
    at.run()
    assert not at.exception
    # 114 sites: the heat map needs no notes, so the board is read without them.
    assert data.COMPUTED["status"] == 1 and data.COMPUTED["board"] == 0
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heat = specs[0]
    assert heat["layout"]["title"]["text"].startswith("Share in service, by region and system")
    assert heat["data"][0]["type"] == "heatmap" and len(heat["data"][0]["y"]) >= 5
    assert "Figures read from the record at" in " ".join(str(c.value) for c in at.caption)
    assert at.markdown[0].value.startswith("**")  # the headline, first, above the filters

    # The figures are one fragment that the browser reruns every 30 seconds.
    (auto,) = [m.auto_rerun for m in sent if m.HasField("auto_rerun")]
    assert auto.interval == 30
    deltas = [m.delta for m in sent if m.HasField("delta")]
    charts_in = {d.fragment_id for d in deltas if d.new_element.HasField("plotly_chart")}
    assert charts_in == {auto.fragment_id}
    filters = [d for d in deltas if d.new_element.HasField("multiselect")]
    assert filters and all(not d.fragment_id for d in filters)  # the filters stay outside

    # The timeline is too long for 114 sites x 3 systems: the slowest 50 by default.
    timeline = next(s for s in specs if s["layout"]["title"]["text"] == "Outage timeline")
    assert len({y for t in timeline["data"] for y in t["y"]}) == scale.SLOWEST
    assert any("The outage timeline shows the 50 slowest" in str(c.value) for c in at.caption)

    # Drill down: one region's sites in the ordinary grid.
    next(s for s in at.selectbox if s.label == "See the sites of one region").set_value(
        "North"
    ).run()
    grids = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    north = next(g for g in grids if g["layout"]["title"]["text"].endswith("in North"))
    assert set(north["data"][0]["x"]) == {f"Site {i:03d}" for i in range(0, 70, 5)}
    # Its cells show each system's last note, read with the region's board.
    board = queries.board(big_app, Filters(regions=("North",)))
    notes = {user_text(n) for n in board["note"] if n}
    hover = " ".join(str(h) for row in north["data"][0]["hovertext"] for h in row)
    assert notes and all(n in hover for n in notes)
    assert data.COMPUTED["board"] == 1  # that region's part only


def test_a_filter_that_leaves_few_sites_draws_the_grid_with_its_notes(big_app):
    """114 sites: the overview plans the board without notes; the closed HQ incident touched
    only HQ's systems, so with it chosen the grid has a column per site, and shows notes."""
    from restore.auth import start_session
    from restore.ui.session import SESSION_KEY

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = start_session(big_app, "hq.it")
    at.run()
    next(s for s in at.selectbox if s.label == "Incident").set_value("HQ malware attack").run()
    assert not at.exception
    grid = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert grid["layout"]["title"]["text"] == "Status of every branch system"
    board = queries.board(big_app, Filters(incident="HQ malware attack"))
    assert board["branch"].nunique() <= scale.GRID_MAX_SITES
    notes = {user_text(n) for n in board["note"] if n}
    hover = " ".join(str(h) for row in grid["data"][0]["hovertext"] for h in row)
    assert notes and all(n in hover for n in notes)


def test_the_public_page_of_a_big_organisation_shows_regions_and_one_page_of_branches(big_app):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    assert not at.exception and at.title[0].value == "Service status"
    (table,) = [d.value for d in at.dataframe]
    assert table["Branch"].nunique() == scale.PAGE_SIZE
    assert "Branches 1-50 of 114 (page 1 of 3)." in [c.value for c in at.caption]
    lines = re.sub(r"\\(.)", r"\1", at.expander[0].markdown[0].value).splitlines()
    assert any(line.startswith("- North: ") for line in lines) and len(lines) > 5
    next(n for n in at.number_input if n.label == "Page").set_value(3).run()
    (table,) = [d.value for d in at.dataframe]
    assert table["Branch"].nunique() == 114 - 100


def test_timeline_rows_from_episodes_match_those_from_every_stretch(fresh_store, people):
    """The page picks the timeline's rows from the outage episodes and reads only their
    stretches; the rows must be those every stretch gives, for the systems that lost service
    (a system only ever degraded, never out of service, has no row)."""
    from restore import timelines
    from restore.records import record_status

    def rec(branch, system, state, days):
        record_status(fresh_store, people["it"], branch=branch, system=system, state=state,
                      at=NOW - timedelta(days=days), now=NOW)  # fmt: skip

    for state, days in (("outage", 9), ("rebuilding", 6), ("verifying", 4), ("restored", 3)):
        rec("kent", "email", state, days)
    for state, days in (("outage", 8), ("investigating", 2)):
        rec("dorset", "website", state, days)
    rec("gwent", "hub", "degraded", 5)
    episodes = timelines.durations(fresh_store, until=NOW)
    stretches = timelines.segments(fresh_store, until=NOW)
    from_episodes = scale.lost_rows(episodes, NOW).sort_values(["branch", "system"])
    everything = scale.timeline_rows(stretches)
    lost = everything[(everything["days_lost"] > 0) | everything["still_out"]]
    lost = lost.sort_values(["branch", "system"])
    assert from_episodes[["branch", "system"]].values.tolist() == [["Dorset", "website"],
                                                                   ["Kent", "email"]]  # fmt: skip
    assert "Gwent" in set(everything["branch"])  # the degraded-only row the stretches give
    assert from_episodes["still_out"].tolist() == lost["still_out"].tolist() == [True, False]
    assert from_episodes["days_lost"].round(6).tolist() == lost["days_lost"].round(6).tolist()
    assert from_episodes["days_lost"].round(6).tolist() == [8.0, 6.0]
    only = timelines.segments(fresh_store, until=NOW, only=(("Kent", "email"),))
    assert set(only["branch"]) == {"Kent"} and len(only) == 4  # its four stretches, no others


def _episodes(n: int, seed: int = 3) -> pd.DataFrame:
    rng = random.Random(seed)
    days = [rng.expovariate(1 / 6) for _ in range(n)]
    return pd.DataFrame({"branch": [f"Site {i}" for i in range(n)],
                         "system": ["email"] * n, "days": days})  # fmt: skip


def test_box_plots_send_the_box_not_every_value_past_the_limit():
    """Time to restore at national scale: the figure stays the same size however many
    episodes there are, and its box is the data's own quartiles and whiskers."""
    few = charts.ttr_chart(_episodes(scale.BOX_POINTS_MAX), {"email": "Email"})
    assert len(few.data[0].x) == scale.BOX_POINTS_MAX and few.data[0].boxpoints == "all"
    sizes = []
    for n in (5_000, 50_000):
        eps = _episodes(n)
        box = charts.ttr_chart(eps, {"email": "Email"}).data[0]
        assert box.x is None and box.boxpoints is False and box.y == ("Email",)
        q = eps["days"].quantile([0.25, 0.5, 0.75]).tolist()
        assert [box.q1[0], box.median[0], box.q3[0]] == pytest.approx(q)
        assert eps["days"].min() <= box.lowerfence[0] <= q[0]
        assert q[2] <= box.upperfence[0] <= eps["days"].max()
        assert box.upperfence[0] <= q[2] + 1.5 * (q[2] - q[0])
        sizes.append(len(charts.ttr_chart(eps, {"email": "Email"}).to_json()))
    assert sizes[1] < sizes[0] * 1.1  # ten times the episodes, the same figure
    slips = _episodes(5_000).assign(**{"from": date(2026, 4, 1), "to": date(2026, 4, 9)})
    box = charts.slippage_chart(slips, {"email": "Email"}).data[0]
    assert box.y is None and box.x == ("Email (5,000 moves)",) and box.median[0] > 0
