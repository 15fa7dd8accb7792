"""Overview for HQ IT and leadership: where are we, how fast, and when will it be done."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from restore import charts, figures
from restore.queries import Filters
from restore.store import now_utc
from restore.timefmt import LONDON, show
from restore.ui import data, session
from restore.ui.views import guard

guard(session.current_actor(), "overview")
st.title("Where are we?")


def controls() -> tuple[Filters, datetime, bool]:
    """Filters and the "as of" moment, from the widgets above the charts."""
    everything = data.read("board")
    incidents = data.read("incidents")
    c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
    regions = c1.multiselect("Region", sorted(everything["region"].unique()), placeholder="All")
    names = dict(zip(everything["system"], everything["system_name"], strict=False))
    keys = c2.multiselect("System", list(names), format_func=names.get, placeholder="All")
    incident = c3.selectbox("Incident", list(incidents["name"]), index=None, placeholder="All")
    with c4:
        live = st.toggle(
            "Live", value=True, help="Off: replay the board as it stood at a past moment"
        )
        as_of = data.minute(now_utc())
        if not live:
            d, t = st.columns(2)
            day = d.date_input(
                "As of date", value=as_of.astimezone(LONDON).date(), format="DD/MM/YYYY"
            )
            at = t.time_input("time", value=time(12, 0), step=timedelta(hours=1))
            as_of = min(datetime.combine(day, at, LONDON).astimezone(as_of.tzinfo), as_of)
    return Filters(tuple(regions), tuple(keys), incident), as_of, live


filters, as_of, live = controls()
if not live:
    st.info(
        f"Replaying the record as it stood at {show(as_of)} (London).", icon=":material/history:"
    )

with st.spinner("Reading the record..."):
    board = data.read("board", filters) if live else data.read("board_as_of", as_of, filters)
    before = data.read("board_as_of", as_of - timedelta(hours=24), filters)
    daily = data.read("progress", filters, until=as_of, freq="D")
    incidents = data.read("incidents")
    if filters.incident:
        incidents = incidents[incidents["name"] == filters.incident]
    head = figures.headline(board, before, daily, incidents, as_of)

if board.empty:
    st.warning("No branch systems match these filters.")
    st.stop()


def metrics() -> None:
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
    if fc and fc.done_on:
        cols[4].metric("Full restoration", f"{fc.done_on:%d %b %Y}", "done")
    elif fc and fc.likely:
        delta = fc.days_before_target
        rng = f"{fc.optimistic:%d %b} to {fc.pessimistic:%d %b}" if fc.pessimistic else "open-ended"
        cols[4].metric(
            "Forecast full restoration",
            f"{fc.likely:%d %b %Y}",
            None if delta is None else f"{delta:+d} days vs target",
            help=f"At the last 14 days' pace ({fc.pace_per_day:.1f} systems a day); "
            f"range {rng}; target {fc.target or 'not set'}. Positive: ahead of the target.",
        )
    else:
        cols[4].metric("Forecast full restoration", "no recent progress")
    cols[5].metric(
        "Reported in last 24 h", f"{head.branches_fresh} of {head.branches_total} branches"
    )


metrics()
st.plotly_chart(charts.status_grid(board), width="stretch")

names = dict(zip(board["system"], board["system_name"], strict=False))
left, right = st.columns(2)
left.plotly_chart(
    charts.progress_chart(daily, incidents, head.forecast, head.total), width="stretch"
)
per_system = {}
by_system = data.read("progress_by_system", filters, until=as_of, freq="D")
for key, series in by_system.items():
    per_system[names.get(key, key)] = (
        100 * series["in service"] / max(int((board["system"] == key).sum()), 1)
    )
total = max(head.total, 1)
# Never-affected systems count in both lines, so that both reach 100% with the rest.
verified = 100 * (daily["operational"] + daily["restored"] + daily["degraded"]) / total
claimed = verified + 100 * daily["verifying"] / total
target = head.forecast.target if head.forecast else None
right.plotly_chart(
    charts.burnup_chart(per_system, claimed, verified, incidents, target), width="stretch"
)

left, right = st.columns(2)
left.plotly_chart(
    charts.slippage_chart(data.read("slippage", filters, until=as_of), names), width="stretch"
)
right.plotly_chart(
    charts.ttr_chart(data.read("durations", filters, until=as_of), names), width="stretch"
)
segments = data.read("segments", filters, until=as_of)
st.plotly_chart(
    charts.timeline_chart(segments[segments["start"] >= pd.Timestamp(0, tz="UTC")]), width="stretch"
)
