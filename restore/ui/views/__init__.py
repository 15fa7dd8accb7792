"""Page files for st.navigation, and the page that refuses a role what it may not see."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from restore.access import Actor, may_see

HERE = Path(__file__).resolve().parent


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


def refuse(title: str) -> None:
    st.title(title)
    st.error(
        f"You do not have access to the {title} page. Sign in with an account that does, "
        "or ask HQ IT.",
        icon=":material/block:",
    )


def refusal_page(name: str) -> st.Page:
    """A hidden page at the same URL that says no, instead of showing data."""
    view = VIEWS[name]

    def page() -> None:
        refuse(view.title)

    return st.Page(page, title=view.title, url_path=name, visibility="hidden")


def guard(actor: Actor, name: str) -> None:
    """Stop the page unless the actor may see it (a second line behind the navigation)."""
    if not may_see(actor, name):
        refuse(VIEWS[name].title)
        st.stop()
