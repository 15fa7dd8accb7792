"""Briefings as A4 PDF (fpdf2) with chart pictures (plotly through kaleido and Chromium).

Both libraries come from PyPI; kaleido draws with the machine's Chromium (Debian's
`chromium`), and nothing is downloaded at run time. Without Chromium the PDF is
still complete, with a line saying the charts could not be drawn.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image

from restore import charts, figures, scale
from restore.briefing import (
    CHANGE_SECTIONS,
    CLOCKS_HEADING,
    RISK_SECTIONS,
    Briefing,
    Inputs,
    capped,
    region_heading,
    still_out_intro,
    when,
)
from restore.domain import Band

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]
INK, MUTED, ACCENT = (31, 41, 51), (100, 110, 120), (31, 111, 139)


def pictures(inputs: Inputs, as_of: datetime) -> tuple[bytes | None, bytes | None]:
    """The progress chart and the status grid (past scale.GRID_MAX_SITES sites, its region x
    system heat map) as PNG, or (None, None) if they cannot be drawn."""
    head = figures.headline(
        inputs.board, inputs.change_24h, inputs.daily, inputs.incidents, as_of
    )
    try:
        progress = charts.progress_chart(inputs.daily, inputs.incidents, head.forecast, head.total)
        grid = charts.status_grid(inputs.board)
        for fig in (progress, grid):  # larger type for paper
            fig.update_layout(font={"size": 15}, legend={"font": {"size": 14}})
        grid.update_xaxes(tickfont={"size": 13})
        return (
            progress.to_image(format="png", width=900, height=420, scale=2),
            grid.to_image(
                format="png", width=1000, height=max(440, grid.layout.height or 0), scale=2
            ),
        )
    except Exception:  # no Chromium, or kaleido failed: the text still tells the story
        return None, None


def _font_dir() -> Path | None:
    return next((d for d in FONT_DIRS if (d / "DejaVuSans.ttf").exists()), None)


class _Document(FPDF):
    """A4 pages with the title, the "as of" time and the page number on every page."""

    def __init__(self, title: str, as_of: str, produced: str):
        super().__init__(format="A4")
        self.doc_title, self.as_of, self.produced = title, as_of, produced
        fonts = _font_dir()
        if fonts:
            self.add_font("body", "", str(fonts / "DejaVuSans.ttf"))
            self.add_font("body", "B", str(fonts / "DejaVuSans-Bold.ttf"))
            self.family = "body"
        else:  # core font: Latin-1 only, so other characters are replaced
            self.family = "helvetica"
        self.set_auto_page_break(True, margin=18)
        self.set_margins(16, 22, 16)
        self.alias_nb_pages()

    def safe(self, text: str) -> str:
        text = str(text)
        return (
            text if self.family == "body" else text.encode("latin-1", "replace").decode("latin-1")
        )

    def header(self) -> None:
        self.set_y(8)
        self.set_font(self.family, "B", 9)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.safe(self.doc_title), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 8)
        self.cell(0, 4, self.safe(f"As of {self.as_of} (London)"), new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*ACCENT)
        self.line(16, 20, 194, 20)
        self.set_y(24)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(self.family, "", 8)
        self.set_text_color(*MUTED)
        self.cell(
            0, 5, self.safe(f"Restore briefing, as of {self.as_of} · produced {self.produced}")
        )
        self.set_x(-40)
        self.cell(24, 5, f"Page {self.page_no()} of {{nb}}", align="R")


class _Writer:
    """Small helpers over fpdf2 for headings, paragraphs, bullets and tables."""

    def __init__(self, pdf: _Document):
        self.pdf = pdf

    def heading(self, text: str, size: int = 13, keep_with: float = 25) -> None:
        """A heading, moved to a new page unless `keep_with` mm fit below it."""
        pdf = self.pdf
        if pdf.get_y() + keep_with > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font(pdf.family, "B", size)
        pdf.set_text_color(*ACCENT)
        pdf.multi_cell(0, size * 0.5, pdf.safe(text), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1)

    def para(self, text: str, size: int = 10, bold: bool = False) -> None:
        pdf = self.pdf
        pdf.set_font(pdf.family, "B" if bold else "", size)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, size * 0.52, pdf.safe(text), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1)

    def bullets(self, items: list[str], empty: str = "None.") -> None:
        for item in capped(items) or [empty]:
            self.para(("• " if items else "") + item)

    def table(self, header: list[str], rows: list[list[str]], widths: tuple | None = None) -> None:
        pdf = self.pdf
        if not rows:
            self.para("None.")
            return
        pdf.set_font(pdf.family, "", 8.5)
        pdf.set_text_color(*INK)
        style = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=ACCENT)
        with pdf.table(
            col_widths=widths,
            headings_style=style,
            line_height=4.6,
            text_align="LEFT",
            cell_fill_color=(242, 245, 247),
            cell_fill_mode="ROWS",
        ) as t:
            for row in [header, *rows]:
                cells = t.row()
                for value in row:
                    cells.cell(pdf.safe(value))
        pdf.ln(2)

    def figure(self, title: str, png: bytes | None, width: float = 165) -> None:
        """A heading and its chart picture, kept together on one page."""
        if png is None:
            self.heading(title)
            self.para("Could not be drawn here (no Chromium for chart pictures).")
            return
        px_w, px_h = Image.open(io.BytesIO(png)).size
        self.heading(title, keep_with=width * px_h / px_w + 4)
        self.pdf.image(io.BytesIO(png), w=width, x=(self.pdf.w - width) / 2)
        self.pdf.ln(2)


def to_pdf(
    b: Briefing,
    *,
    title: str = "Draft briefing",
    note: str = "",
    author: str = "",
    published_at: str = "",
    images: tuple[bytes | None, bytes | None] = (None, None),
    produced: str = "",
) -> bytes:
    """The briefing as an A4 PDF, charts included when `images` holds them."""
    pdf = _Document(title, when(b.as_of), produced or when(published_at or b.as_of))
    pdf.add_page()
    w = _Writer(pdf)
    pdf.set_font(pdf.family, "B", 18)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 9, pdf.safe(title), new_x="LMARGIN", new_y="NEXT")
    if published_at:
        w.para(f"Published {when(published_at)} by {author}", size=9)
    pdf.ln(2)
    w.para(b.headline, size=13, bold=True)
    if note:
        w.para(note, size=10)
    _figures(w, b)
    w.figure("Restoration progress", images[0])
    wide = b.totals.get("branches", 0) > scale.GRID_MAX_SITES
    w.figure("Share in service, by region and system" if wide else "Status of every branch system",
             images[1])  # fmt: skip
    if b.clocks:  # briefings published before clocks were kept have none
        w.heading(CLOCKS_HEADING)
        w.bullets(b.clocks)
    _changes(w, b)
    w.heading("Still out")
    _still_out(w, b)
    w.heading("Risks that need a decision")
    for key, label in RISK_SECTIONS:
        w.heading(label, size=11)
        w.bullets(b.risks.get(key, []))
    return bytes(pdf.output())


def _figures(w: _Writer, b: Briefing) -> None:
    t = b.totals
    w.heading("Figures")
    lines = [
        f"Systems in service: {t['in_service']} of {t['total']} ({t['percent']}%), "
        f"{t['change_24h']:+d} in the last 24 hours",
        f"Branches with every system in service: {t['branches_all_in_service']} of {t['branches']}",
        f"Branches reporting in the last 24 hours: {t['branches_fresh']} of {t['branches']}",
        *[f"Days since {name}: {days}" for name, days in b.days_since.items()],
    ]
    if not b.days_since:
        lines.append("No incident is recorded.")
    fc = b.forecast or {}
    if fc.get("likely"):
        lines.append(
            f"Forecast full restoration: {fc['likely']} (range {fc['optimistic']} to "
            f"{fc['pessimistic'] or 'open-ended'}); "
            f"{fc.get('against_target') or 'target ' + str(fc['target'] or 'not set')}"
        )
    w.bullets(lines)
    bands = [Band.IN.value, Band.RECOVERING.value, Band.OUT.value]
    head = ["In service", "Recovering", "Out of service", "Total"]
    w.table(
        ["System", *head],
        [[r["system"], *[str(r[k]) for k in bands], str(r["total"])] for r in b.per_system],
    )
    w.table(
        ["Region", *head],
        [[r["region"], *[str(r[k]) for k in bands], str(r["total"])] for r in b.per_region],
    )


def _changes(w: _Writer, b: Briefing) -> None:
    if b.previous is None:
        w.heading("Since the last briefing")
        w.para("This is the first briefing.")
        return
    w.heading(f"Since the last briefing ({b.previous['title']}, as of {when(b.previous['as_of'])})")
    for key, label in CHANGE_SECTIONS:
        w.heading(f"{label} ({len(b.changes[key])})", size=11)
        w.bullets(b.changes[key])


STILL_OUT_HEADER = ["Branch", "System", "State", "Since", "Expected", ""]
STILL_OUT_WIDTHS = (30, 24, 58, 28, 20, 18)


def _still_out_rows(items: list[dict]) -> list[list[str]]:
    return [
        [r["branch"], r["system"], r["state"], r["since"], r["eta"],
         "OVERDUE" if r["overdue"] else ""]
        for r in items
    ]  # fmt: skip


def _still_out(w: _Writer, b: Briefing) -> None:
    if not b.still_out_regions:  # published before regions were kept, or nothing is out
        w.table(STILL_OUT_HEADER, _still_out_rows(b.still_out), widths=STILL_OUT_WIDTHS)
        return
    w.para(still_out_intro(b))
    for region in b.still_out_regions:
        w.heading(region_heading(region), size=11)
        items = [r for r in b.still_out if r.get("region") == region["region"]]
        w.table(STILL_OUT_HEADER, _still_out_rows(items), widths=STILL_OUT_WIDTHS)
        if region["more"]:
            w.para(f"and {region['more']:,} more in {region['region']}.")
