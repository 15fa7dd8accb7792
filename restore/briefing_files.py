"""A briefing as a downloadable file: draft or published, Markdown or PDF."""

from __future__ import annotations

from datetime import datetime

from restore import publishing
from restore.briefing import Briefing, to_markdown
from restore.briefing_pdf import pictures, to_pdf
from restore.store import Store, now_utc
from restore.timefmt import show


def draft_file(store: Store, as_of: datetime, fmt: str) -> bytes:
    """The draft briefing for `as_of` as `md` or `pdf` bytes."""
    b = publishing.draft(store, as_of)
    if fmt == "md":
        return to_markdown(b).encode()
    images = pictures(publishing.inputs(store, as_of), as_of)
    return to_pdf(b, images=images, produced=show(now_utc()))


def published_file(store: Store, briefing_id: int, fmt: str) -> bytes:
    """A published briefing exactly as stored: its Markdown, or a PDF of its stored content."""
    row = publishing.load(store, briefing_id)
    if fmt == "md":
        return row["markdown"].encode()
    b = Briefing(**row["figures"])
    return to_pdf(
        b,
        title=row["title"],
        note=row["note"],
        author=row["author"],
        published_at=row["published_at"].isoformat(),
        images=(row["progress_png"], row["grid_png"]),
    )
