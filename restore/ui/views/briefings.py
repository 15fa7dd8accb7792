"""Briefings for leadership and HQ IT: today's draft, publishing, and every published briefing."""

from datetime import datetime, time

import streamlit as st

from restore import briefing_files, charts, figures, publishing
from restore.briefing import to_markdown
from restore.briefing_pdf import pictures
from restore.domain import RestoreError
from restore.store import now_utc
from restore.timefmt import LONDON, show
from restore.ui import data, session
from restore.ui.views import guard

actor = session.current_actor()
guard(actor, "briefings")
st.title("Briefings")
draft_tab, published_tab = st.tabs(["Draft", "Published"])

with draft_tab:
    live = st.toggle("As of now", value=True, key="briefing_live")
    as_of = data.minute(now_utc())
    if not live:
        c1, c2 = st.columns(2)
        day = c1.date_input(
            "As of date", value=as_of.astimezone(LONDON).date(), format="DD/MM/YYYY"
        )
        at = c2.time_input("As of time (London)", value=time(9, 0))
        as_of = min(datetime.combine(day, at, LONDON), as_of)
    with st.spinner("Writing the briefing..."):
        draft = data.read("briefing_draft", as_of)
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download Markdown",
        to_markdown(draft).encode(),
        f"briefing-{as_of:%Y%m%d-%H%M}.md",
        "text/markdown",
    )
    if c2.button("Prepare PDF", help="Draws the charts; takes a few seconds"):
        with st.spinner("Drawing charts and the PDF..."):
            pdf = briefing_files.draft_file(data.store(), as_of, "pdf")
        c2.download_button(
            "Download PDF",
            pdf,
            f"briefing-{as_of:%Y%m%d-%H%M}.pdf",
            "application/pdf",
            on_click="ignore",
        )
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
                    images = pictures(publishing.inputs(data.store(), as_of), as_of)
                    new_id = publishing.publish(
                        data.store(), actor, title=title, note=note, as_of=as_of, images=images
                    )
            except RestoreError as e:
                st.error(session.plain(str(e)), icon=":material/error:")
            else:
                st.success(f"Published briefing {new_id}. It is in the Published tab.")
    st.divider()
    # Our own Markdown, with every piece of user text escaped inside it.
    st.markdown(to_markdown(draft))
    inputs = data.read("briefing_inputs", as_of)
    head = figures.headline(
        inputs.board, inputs.board_day_before, inputs.daily, inputs.incidents, as_of
    )
    st.plotly_chart(
        charts.progress_chart(inputs.daily, inputs.incidents, head.forecast, head.total),
        width="stretch",
    )
    st.plotly_chart(charts.status_grid(inputs.board), width="stretch")

with published_tab:
    listing = publishing.published(data.store())
    if listing.empty:
        st.info("Nothing has been published yet.")
    else:
        labels = {
            r.id: f"{r.title} — as of {show(r.as_of)}, by {r.author}" for r in listing.itertuples()
        }
        chosen = st.selectbox("Published briefing", list(labels), format_func=labels.get)
        row = publishing.load(data.store(), chosen)
        c1, c2 = st.columns(2)
        c1.download_button(
            "Download Markdown",
            row["markdown"].encode(),
            f"briefing-{chosen}.md",
            "text/markdown",
            key="pub_md",
        )
        c2.download_button(
            "Download PDF",
            data.read("published_pdf", chosen),
            f"briefing-{chosen}.pdf",
            "application/pdf",
            key="pub_pdf",
        )
        st.markdown(row["markdown"])
        for picture, caption in (
            (row["progress_png"], "Restoration progress, as published"),
            (row["grid_png"], "Status of every branch system, as published"),
        ):
            if picture:
                st.image(picture, caption=caption)
