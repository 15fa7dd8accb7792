"""Page files for st.navigation, the refusal page, and the pieces every page shares:
tables that become cards on a phone, and text alternatives beside charts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from restore.access import Actor, may_see
from restore.ui.session import plain

HERE = Path(__file__).resolve().parent
PHONE_MAX_PX = 640
# Containers keyed "wide_*" show above the phone width, "narrow_*" below it; big tap targets.
STYLE = f"""<style>
@media (max-width: {PHONE_MAX_PX}px) {{ [class*="st-key-wide_"] {{ display: none !important; }} }}
@media (min-width: {PHONE_MAX_PX + 1}px) {{
  [class*="st-key-narrow_"] {{ display: none !important; }} }}
[data-testid="stBaseButton-primary"], [data-testid="stBaseButton-secondary"],
[data-testid="stBaseButton-primaryFormSubmit"], [data-testid="stBaseButton-secondaryFormSubmit"]
{{ min-height: 2.75rem; }}
</style>"""


@dataclass(frozen=True)
class View:
    path: Path
    title: str
    icon: str


VIEWS = {
    "overview": View(HERE / "overview.py", "Overview", ":material/monitoring:"),
    "my_branch": View(HERE / "my_branch.py", "Branch status", ":material/store:"),
    "follow_up": View(HERE / "follow_up.py", "Follow-up", ":material/notification_important:"),
    "admin": View(HERE / "admin.py", "Admin", ":material/settings:"),
    "briefings": View(HERE / "briefings.py", "Briefings", ":material/description:"),
    "public": View(HERE / "public.py", "Public status", ":material/public:"),
    "sign_in": View(HERE / "sign_in.py", "Sign in", ":material/login:"),
}


def style() -> None:
    """The shared stylesheet (phone cards, tap targets); call once per run."""
    st.html(STYLE)


def refuse(title: str, actor: Actor) -> None:
    st.title(title)
    st.error(f"You do not have access to the {title} page.", icon=":material/block:")
    if actor.is_anonymous:
        try:
            st.page_link(str(VIEWS["sign_in"].path), label="Sign in", icon=":material/login:")
        except StreamlitAPIException:  # opened outside the navigation: link by address
            st.markdown("[Sign in](/sign_in)")
    else:
        st.write(
            "You are signed in with an account that cannot see this page. To use another "
            "account, sign out (in the menu) and sign in again; or ask HQ IT for access."
        )


def refusal_page(name: str, actor: Actor) -> st.Page:
    """A hidden page at the same URL that says no, instead of showing data."""
    view = VIEWS[name]

    def page() -> None:
        refuse(view.title, actor)

    return st.Page(page, title=view.title, url_path=name, visibility="hidden")


def guard(actor: Actor, name: str) -> None:
    """Stop the page unless the actor may see it (a second line behind the navigation)."""
    if not may_see(actor, name):
        refuse(VIEWS[name].title, actor)
        st.stop()


@st.cache_data(show_spinner=False, max_entries=64)
def _alt(chart: str, *args):
    """chart_text's description of a chart, made once per distinct data (some walk every
    branch system, which at national scale costs more than hashing the frames)."""
    from restore import chart_text

    return getattr(chart_text, chart)(*args)


def show_alt(chart: str, *args) -> None:
    """A chart's text alternative beside it: one line, and the figures as a readable table."""
    draw_alt(_alt(chart, *args))


def draw_alt(alt) -> None:
    """A text alternative (restore.chart_text.Alt) drawn under its chart."""
    st.caption(plain(alt.summary))
    with st.expander("The chart as a table"):
        st.dataframe(alt.table, hide_index=True, width="stretch")


def cards(df: pd.DataFrame, title: str, fields: dict[str, str], key: str) -> None:
    """One bordered card per row (for phones): the `title` column, then "Label: value" lines.

    Every value is shown with st.text, so user text never renders as markdown or HTML.
    """
    with st.container(key=f"narrow_{key}"):
        for i, values in enumerate(df.to_dict("records")):
            with st.container(border=True, key=f"card_{key}_{i}"):
                st.markdown(f"**{plain(str(values[title]))}**")
                lines = [
                    f"{label}: {value}" if label else str(value)
                    for col, label in fields.items()
                    if _shown(value := values.get(col))
                ]
                st.text("\n".join(lines))


def _shown(value) -> bool:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return False
    return bool(str(value).strip())
