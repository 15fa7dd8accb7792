"""Briefings for leadership and HQ IT: today's draft, publishing, and every published briefing."""

from datetime import UTC, datetime, time

import streamlit as st

from restore import briefing_pdf, charts, figures, publishing, readplan
from restore.briefing import compose, to_markdown
from restore.briefing_pdf import pictures
from restore.domain import RestoreError
from restore.store import now_utc
from restore.timefmt import LONDON, show
from restore.ui import data, session
from restore.ui.views import guard, show_alt

actor = session.current_actor()
guard(actor, "briefings")
st.title("Briefings")
now = now_utc()


def moment() -> datetime | None:
    """None for now (live), else the chosen past moment."""
    if st.toggle("As of now", value=True, key="briefing_live"):
        return None
    c1, c2 = st.columns(2)
    day = c1.date_input("As of date", value=now.astimezone(LONDON).date(), format="DD/MM/YYYY")
    at = c2.time_input("As of time (London)", value=time(9, 0))
    return min(datetime.combine(day, at, LONDON).astimezone(UTC), now)


def draft_tab() -> None:
    as_of = moment()
    when = as_of or now
    with st.spinner("Writing the briefing..."):
        plan = readplan.moment(as_of, now)
        keep = ("board", "change_24h", "daily", "incidents", "episodes")
        inputs = publishing.with_clocks(
            publishing.inputs_from(data.load({k: plan[k] for k in keep})), data.store(), when
        )
        draft = compose(inputs, when, publishing.previous(data.store(), when))
    st.markdown(f"**{session.plain(draft.headline)}**")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download Markdown", to_markdown(draft).encode(), f"briefing-{when:%Y%m%d-%H%M}.md",
        "text/markdown",
    )  # fmt: skip
    if c2.button("Prepare PDF", help="Draws the charts; takes a few seconds"):
        with st.spinner("Drawing charts and the PDF..."):
            pdf = briefing_pdf.to_pdf(draft, images=pictures(inputs, when), produced=show(now))
        c2.download_button(
            "Download PDF", pdf, f"briefing-{when:%Y%m%d-%H%M}.pdf", "application/pdf",
            on_click="ignore", key="draft_pdf",
        )  # fmt: skip
    with st.form("publish", border=True):
        st.write(
            "Publish this briefing: it is stored for good, and later briefings compare with it."
        )
        title = st.text_input(
            "Title",
            max_chars=publishing.MAX_TITLE,
            placeholder="e.g. Weekly briefing for the board",
        )
        note = st.text_area("Covering note (optional)", max_chars=publishing.MAX_NOTE)
        if st.form_submit_button("Publish", type="primary"):
            try:
                with st.spinner("Publishing..."):
                    images = pictures(inputs, when)
                    new_id = publishing.publish(
                        data.store(), actor, title=title, note=note, as_of=when, images=images
                    )
            except RestoreError as e:
                st.error(session.plain(str(e)), icon=":material/error:")
            else:
                st.success(f"Published briefing {new_id}. It is in the Published tab.")
    st.divider()
    # Our own Markdown, with every piece of user text escaped inside it.
    st.markdown(to_markdown(draft))
    head = figures.headline(
        inputs.board, inputs.change_24h, inputs.daily, inputs.incidents, when
    )
    st.plotly_chart(
        charts.progress_chart(inputs.daily, inputs.incidents, head.forecast, head.total),
        width="stretch",
    )
    show_alt("progress_chart", inputs.daily, inputs.incidents, head.forecast, head.total)
    st.plotly_chart(charts.status_grid(inputs.board), width="stretch")
    show_alt("status_grid", inputs.board)


def published_tab() -> None:
    listing = publishing.published(data.store())
    if listing.empty:
        st.info("Nothing has been published yet.")
        return
    labels = {
        r.id: f"{r.title} — as of {show(r.as_of)}, by {r.author}" for r in listing.itertuples()
    }
    chosen = st.selectbox("Published briefing", list(labels), format_func=labels.get)
    row = publishing.load(data.store(), chosen)
    st.markdown(f"**{session.plain(row['figures']['headline'])}**")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download Markdown", row["markdown"].encode(), f"briefing-{chosen}.md", "text/markdown",
        key="pub_md",
    )  # fmt: skip
    c2.download_button(
        "Download PDF", data.published_pdf(chosen), f"briefing-{chosen}.pdf", "application/pdf",
        key="pub_pdf",
    )  # fmt: skip
    st.markdown(row["markdown"])
    for picture, caption in (
        (row["progress_png"], "Restoration progress, as published"),
        (row["grid_png"], "Status of every branch system, as published"),
    ):
        if picture:
            st.image(picture, caption=caption)


draft, published = st.tabs(["Draft", "Published"])
with draft:
    draft_tab()
with published:
    published_tab()
