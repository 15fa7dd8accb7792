"""Overview for HQ IT and leadership: where are we, how fast, and when will it be done.

The filters stay outside the live part; the figures and charts are a fragment that reruns
itself every REFRESH_SECONDS, so a wall screen keeps up without anyone touching it and
without losing its filters. Reads are cached on the data version, so a rerun that finds
nothing new reads nothing.

Right under the headline, the regulatory and contractual clocks of the live incidents count
down; below the figures, the critical path of systems waiting on others. Closed incidents
leave the live overview: the incident filter offers them last, marked "(closed)".
"""

from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple

import streamlit as st

from restore import chart_text, charts, overview, publishing, readplan, recovery_views, scale
from restore.queries import Filters
from restore.readmodels import versions
from restore.recovery import incident_statuses, list_clocks
from restore.store import database_url, now_utc
from restore.timefmt import LONDON, show
from restore.ui import data, session
from restore.ui.views import draw_alt, guard

REFRESH_SECONDS = 30
CLOCK_ICONS = {
    "missed": ":material/timer_off:",
    "soon": ":material/alarm:",
    "running": ":material/timer:",
}

guard(session.current_actor(), "overview")
st.title("Where are we?")
headline = st.empty()  # the briefing's one sentence comes first; filled once it is known
headline.caption("Reading the record...")  # a fragment may only fill what the run wrote to
countdown = st.empty()  # the clocks of the live incidents, filled by the fragment
now = now_utc()
statuses = {s.name: s for s in incident_statuses(data.store())}


def controls() -> tuple[Filters, datetime | None]:
    """Filters and the "as of" moment (None: live), from the widgets above the charts."""
    sites, kinds = data.read("branches"), data.read("systems")
    incidents = data.read("incidents")
    c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
    regions = c1.multiselect("Region", sorted(sites["region"].unique()), placeholder="All")
    names = dict(zip(kinds["key"], kinds["name"], strict=False))
    keys = c2.multiselect("System", list(names), format_func=names.get, placeholder="All")
    choices = recovery_views.incident_choices(list(statuses.values()))
    incident = c3.selectbox(
        "Incident",
        [n for n in choices if n in set(incidents["name"])],
        index=None,
        format_func=choices.get,
        placeholder="All open",
        help="Closed incidents are listed last, marked (closed)",
    )
    as_of = None
    with c4:
        if not st.toggle(
            "Live", value=True, help="Off: replay the board as it stood at a past moment"
        ):
            d, t = st.columns(2)
            day = d.date_input(
                "As of date", value=now.astimezone(LONDON).date(), format="DD/MM/YYYY"
            )
            at = t.time_input("time", value=time(12, 0), step=timedelta(hours=1))
            as_of = min(datetime.combine(day, at, LONDON).astimezone(UTC), now)
    return Filters(tuple(regions), tuple(keys), incident), as_of


filters, as_of = controls()


@st.fragment(run_every=REFRESH_SECONDS)
def live() -> None:
    """Everything below the filters, read again (from the cache unless something changed)."""
    now = now_utc()
    moment = as_of or now.replace(second=0, microsecond=0)
    notes = scale.grid_needs_notes(data.read("branches"), filters.regions)
    plan = readplan.moment(as_of, now, filters, notes=notes, daily=False)
    live_names = [filters.incident] if filters.incident else open_names()
    previous = publishing.previous(data.store(), moment)
    previous_in = previous["totals"]["in_service"] if previous else None
    key = (data.plan_key(plan), moment, filters, tuple(live_names), previous_in)
    with st.spinner("Reading the record..."):
        page = data.kept("overview", key, lambda: draw(plan, moment, live_names, previous_in))
    view = page.view
    headline.markdown(f"**{session.plain(view.headline)}**")
    if read := data.read_at(plan):
        st.caption(
            f"Figures read from the record at {read.astimezone(LONDON):%H:%M:%S}; "
            "they are read again only when something changes."
        )
    clocks(moment, set(live_names))
    if as_of is not None:
        st.info(
            f"Replaying the record as it stood at {show(as_of)} (London).",
            icon=":material/history:",
        )
    if filters.incident and statuses[filters.incident].state == "closed":
        st.info(
            session.plain(
                f"{filters.incident} is closed. "
                + recovery_views.status_words(statuses[filters.incident])
                + " Its final report is on the Recovery page."
            ),
            icon=":material/task_alt:",
        )
    if view.board.empty:
        st.warning("No branch systems match these filters.")
        return
    metrics(view)
    critical_path(view, as_of)
    status(page)
    trends(page)
    timeline(view, key)


class Drawn(NamedTuple):
    """The composed overview and its fixed charts, kept while their data stays the same."""

    view: overview.Overview
    charts: dict[str, overview.Drawing]
    board: readplan.Read  # the board read behind them (a region's sites are read from it)


def draw(plan, moment: datetime, live_names: list[str], previous_in: int | None) -> Drawn:
    frames = data.load(plan)
    board = plan["board"]
    if board.name == "status" and not scale.grid_too_wide(frames["board"]):
        board = readplan.with_notes(board)  # few sites after all: the grid shows notes
        frames["board"] = data.fetch(board)
    frames["incidents"] = recovery_views.only_incidents(frames["incidents"], live_names)
    view = overview.compose(frames, moment, incident=filters.incident, previous_in=previous_in)
    return Drawn(view, overview.drawings(view) if not view.board.empty else {}, board)


def open_names() -> list[str]:
    return recovery_views.open_names(list(statuses.values()))


def clocks(moment, live: set[str]) -> None:
    """The countdown at the top: every running or missed clock of the live incidents."""
    found = recovery_views.clocks_as_of(list_clocks(data.store(), now=moment), moment)
    lines = recovery_views.countdown_lines(found, live)
    met = recovery_views.met_text(found, live)
    with countdown.container():
        if lines:
            st.markdown("**Regulatory and contractual clocks**")
            for kind, line in lines:
                icon = CLOCK_ICONS[kind]
                (st.info if kind == "running" else st.warning)(session.plain(line), icon=icon)
        if met:
            st.caption(met)


@st.cache_data(show_spinner=False, max_entries=16)
def _paths(url: str, key: tuple, _board, forecast) -> tuple[list, list]:
    """The critical path and the forecast's warnings for one board, read again only after
    a write (the key holds the data version, the moment and the filters)."""
    return recovery_views.recovery_paths(data.store(), _board, forecast)


def critical_path(view: overview.Overview, as_of) -> None:
    """The chain of blocked systems with the latest expected date, and the forecast's warning
    when a blocker is expected back after it."""
    fc = view.head.forecast
    forecast = fc.likely if fc and not fc.done_on else None
    key = (versions.current(data.store()).key("board"), as_of, filters)
    path, notes = _paths(database_url(), key, view.board, forecast)
    if not path and not notes:
        return
    st.subheader("Critical path")
    text = recovery_views.critical_path_text(path)
    if text:
        st.write(session.plain(text))
        st.dataframe(
            recovery_views.critical_path_rows(path), hide_index=True, width="stretch",
            key="critical_path",
        )  # fmt: skip
    for note in notes:
        st.warning(session.plain(session.sentence(note) + "."), icon=":material/event_busy:")


def metrics(view: overview.Overview) -> None:
    head = view.head
    fc = head.forecast
    cols = [*st.columns(3), *st.columns(3)]
    cols[0].metric(
        "Systems in service",
        f"{head.in_service} of {head.total}",
        f"{head.change_24h:+d} in 24 h",
        help=f"{head.percent}% in service",
    )
    cols[1].metric(
        "Branches fully restored", f"{head.branches_all_in_service} of {head.branches_total}"
    )
    cols[2].metric("Systems still out", head.out_of_service, help="Out of service or recovering")
    since = " · ".join(f"{session.plain(n)}: {d}" for n, d in head.days_since.items())
    cols[3].metric("Days since the attack", max(head.days_since.values(), default=0), help=since)
    with cols[4]:
        if fc and fc.done_on:
            st.metric("Full restoration", f"{fc.done_on:%d %b %Y}")
            st.caption("Every system is back in service.")
        elif fc and fc.likely:
            rng = (
                f"{fc.optimistic:%d %b} to {fc.pessimistic:%d %b}"
                if fc.pessimistic
                else "open-ended"
            )
            st.metric(
                "Forecast full restoration",
                f"{fc.likely:%d %b %Y}",
                help=f"At the last 14 days' pace ({fc.pace_per_day:.1f} systems a day); "
                f"range {rng}.",
            )
            st.caption(session.sentence(fc.against_target()))
        else:
            st.metric("Forecast full restoration", "no recent progress")
    silent = len(head.never_reported_branches)
    cols[5].metric(
        "Branches reported in 24 h",
        f"{head.branches_fresh} of {head.branches_total}",
        help="Branches with any report in the last 24 hours",
    )
    if silent or head.never_reported_systems:
        cols[5].caption(
            f"{silent} branches have never reported; {head.never_reported_systems} systems have "
            "no report yet."
        )


def chart(drawing: overview.Drawing) -> None:
    st.plotly_chart(drawing.figure, width="stretch")
    draw_alt(drawing.alt)


def status(page: Drawn) -> None:
    """The status grid, or past scale.GRID_MAX_SITES sites the heat map and one region's grid."""
    board = page.view.board
    chart(page.charts["status_grid"])
    if not scale.grid_too_wide(board):
        return
    region = st.selectbox(
        "See the sites of one region",
        scale.regions(board),
        index=None,
        placeholder="Choose a region",
        key="grid_region",
    )
    if region is None:
        return
    sites = board
    if page.board.name == "status":  # no notes in it: read the region's board with them
        sites = data.fetch(readplan.with_notes(page.board, region))
    part = scale.region_sites(sites, region)
    if part.pages > 1:
        page_no = st.number_input("Page of sites", 1, part.pages, key=f"grid_page_{region}")
        part = scale.region_sites(sites, region, page=page_no)
    st.plotly_chart(
        charts.site_grid(part.frame, title=f"Status of every branch system in {region}"),
        width="stretch",
    )
    st.caption(session.plain(f"{region}: {part.caption}"))
    draw_alt(chart_text.site_grid(part.frame))


def trends(page: Drawn) -> None:
    left, right = st.columns(2)
    with left:
        chart(page.charts["progress_chart"])
    with right:
        chart(page.charts["burnup_chart"])
    left, right = st.columns(2)
    with left:
        chart(page.charts["slippage_chart"])
    with right:
        chart(page.charts["ttr_chart"])


def timeline(view: overview.Overview, key: tuple) -> None:
    """The outage timeline; past scale.TIMELINE_MAX_ROWS rows, the slowest or one region.
    Only the stretches of the rows drawn are read."""
    rows = data.kept("overview-timeline-rows", key, lambda: overview.timeline_rows(view))
    choice = None
    if len(rows) > scale.TIMELINE_MAX_ROWS:
        choice = st.selectbox(
            "The outage timeline shows",
            scale.timeline_options(view.board),
            key="timeline_choice",
        )
    pick = scale.pick_timeline(rows, view.board, choice=choice)
    read = readplan.timeline(as_of, pick.pairs(), filters)

    def make() -> overview.Drawing:
        return overview.timeline_drawing(overview.drawn_segments(data.fetch(read), view.as_of))

    drawing = data.kept("overview-timeline", (key, read), make)
    st.plotly_chart(drawing.figure, width="stretch")
    if pick.caption:
        st.caption(session.plain(pick.caption))
    draw_alt(drawing.alt)


live()
