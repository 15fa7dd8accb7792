"""Briefings: every figure matches the queries, changes since the last one, immutability, PDF."""

import io
import json
import shutil
from datetime import timedelta

import pytest
from conftest import NOW, snapshot
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from restore import figures, publishing, queries
from restore.access import PermissionDenied
from restore.briefing import to_markdown
from restore.briefing_files import draft_file, published_file
from restore.briefing_pdf import pictures, to_pdf
from restore.demo import seed_demo
from restore.directory import SYSTEM, add_incident
from restore.records import ValidationError, record_status

T0 = NOW - timedelta(days=20)


def at(days: float):
    return T0 + timedelta(days=days)


@pytest.fixture
def small(fresh_store, people):
    """Hand-built: an incident on day 0; Kent's three systems and West Midlands' email."""
    add_incident(fresh_store, SYSTEM, name="Attack", started_at=at(0), target_date=at(30).date())
    it = people["it"]

    def rec(branch, system, state, day, **kw):
        record_status(
            fresh_store, it, branch=branch, system=system, state=state, at=at(day), now=NOW, **kw
        )

    for system in ("website", "hub", "email"):
        rec("kent", system, "contained", 0.1, eta=at(5).date())
    rec("west-midlands", "email", "outage", 0.2, eta=at(3).date())
    rec("kent", "website", "verifying", 2)
    rec("kent", "website", "restored", 3)
    rec("west-midlands", "email", "verifying", 4)
    return fresh_store


def test_figures_equal_the_board_and_progress_queries(small):
    b = publishing.draft(small, at(6))
    board = queries.board_as_of(small, at(6))
    assert b.totals["total"] == len(board) == 132
    assert b.totals["in_service"] == 1  # Kent's website; the rest have no report or are out
    assert b.per_band == {"out of service": 2, "recovering": 1, "in service": 1}
    assert {r["system"]: r["in service"] for r in b.per_system} == {
        "Public website": 1,
        "The Hub": 0,
        "Email": 0,
    }
    assert b.days_since == {"Attack": 6}
    daily = queries.progress(small, until=at(6))
    expected = figures.forecast(daily, 132, at(30).date())
    assert b.forecast["likely"] == (expected.likely.isoformat() if expected.likely else None)
    assert b.forecast["target"] == at(30).date().isoformat()


def test_still_out_and_risks_on_a_small_case(small):
    b = publishing.draft(small, at(6))
    out = {(r["branch"], r["system"]): (r["state"], r["eta"], r["overdue"]) for r in b.still_out}
    assert out[("Kent", "The Hub")] == (
        "Contained (disconnected to stop the spread)",
        at(5).date().isoformat(),
        True,
    )
    assert out[("West Midlands", "Email")][2] is True  # expected day 3, now day 6
    assert ("Kent", "Public website") not in out
    counted = {r["region"]: r["still_out"] for r in b.still_out_regions}
    assert sum(counted.values()) == 3 + 128  # the three above, and 128 with no report
    board = queries.board_as_of(small, at(6))
    assert counted == board[board["band"] != "in service"].groupby("region").size().to_dict()
    for region in b.still_out_regions:  # at most 10 named, the rest counted
        named = [r for r in b.still_out if r["region"] == region["region"]]
        assert len(named) == region["named"] == min(region["still_out"], 10)
        assert region["more"] == region["still_out"] - region["named"]
    assert b.risks["overdue"][0].startswith("West Midlands Email: expected")
    assert b.risks["long_verification"] == []  # verifying for 2 days only
    stale = b.risks["stale"]  # never reported first; West Midlands' email: exactly 48 hours
    assert len(stale) == 44 and "Essex: has never reported" in stale
    assert stale[-2:] == [
        "West Midlands: 2 system(s) never reported",
        "Kent: no update for 72 hours",
    ]
    assert b.headline.endswith("; 42 branches have never reported.")


def test_changes_since_the_previous_published_briefing(small, people):
    def rec(branch, system, state, day):
        record_status(
            small, people["it"], branch=branch, system=system, state=state, at=at(day), now=NOW
        )

    for system in ("website", "hub", "email"):  # Essex reports in full, then falls quiet
        rec("essex", system, "outage", 3)
    publishing.publish(small, people["boss"], title="Monday", as_of=at(3.5), now=at(3.5))
    rec("kent", "website", "contained", 7)  # restored on day 3, lost again
    rec("west-midlands", "email", "restored", 7.1)
    b = publishing.draft(small, at(8))
    assert b.previous["title"] == "Monday"
    assert b.changes["restored"] == ["West Midlands: Email"]
    assert b.changes["lost"] == ["Kent: Public website"]
    assert b.changes["new_overdue"] == ["Kent: Email", "Kent: The Hub"]  # due day 5
    assert b.changes["went_quiet"] == ["Essex"]  # last heard of on day 3
    assert b.totals["since_previous"] == 0
    assert "no change since the last briefing" in b.headline


def test_a_published_briefing_never_changes(fresh_store, people):
    seed_demo(fresh_store, start=NOW.date() - timedelta(weeks=8), now=NOW)
    new_id = publishing.publish(
        fresh_store,
        people["boss"],
        title="Board",
        note="**draft**",
        as_of=NOW - timedelta(days=2),
        now=NOW,
    )
    before = publishing.load(fresh_store, new_id)
    record_status(
        fresh_store, people["it"], branch="kent", system="email", state="contained", at=NOW, now=NOW
    )
    publishing.publish(fresh_store, people["it"], title="Later", now=NOW)
    assert publishing.load(fresh_store, new_id) == before
    for sql in ("UPDATE briefings SET title = 'x'", "DELETE FROM briefings"):
        with pytest.raises(DBAPIError, match="immutable"), fresh_store.write() as conn:
            conn.execute(text(sql))
    assert publishing.load(fresh_store, new_id) == before


@pytest.mark.parametrize(
    ("who", "title"), [("wm", "Mine"), ("anon", "Mine"), ("it", ""), ("it", "x" * 201)]
)
def test_publishing_is_refused_for_chairs_anonymous_and_bad_titles(fresh_store, people, who, title):
    before = snapshot(fresh_store)
    with pytest.raises((PermissionDenied, ValidationError)):
        publishing.publish(fresh_store, people[who], title=title, now=NOW)
    assert snapshot(fresh_store) == before


@pytest.mark.parametrize("as_of_days", [14, 30, 56])
def test_demo_briefing_figures_match_the_queries(fresh_store, as_of_days):
    seed_demo(fresh_store, start=NOW.date() - timedelta(weeks=8), now=NOW)
    moment = NOW - timedelta(weeks=8) + timedelta(days=as_of_days)
    b = publishing.draft(fresh_store, moment)
    board = queries.board_as_of(fresh_store, moment)
    assert b.totals["in_service"] == (board["band"] == "in service").sum()
    assert sum(r["total"] for r in b.per_region) == len(board)
    for row in b.per_system:
        part = board[board["system_name"] == row["system"]]
        assert row["recovering"] == (part["band"] == "recovering").sum()
    assert sum(r["still_out"] for r in b.still_out_regions) == (board["band"] != "in service").sum()
    assert len(b.risks["overdue"]) == len(queries.overdue(board, moment))
    assert b.headline.startswith(f"{b.totals['in_service']} of 132 systems are back in service")


def test_empty_database_gives_a_clear_document(fresh_store):
    b = publishing.draft(fresh_store, NOW)
    assert b.headline == "No status has been recorded yet for any of the 132 branch systems."
    md = to_markdown(b)
    assert "No incident is recorded." in md and "This is the first briefing." in md
    pdf = PdfReader(io.BytesIO(to_pdf(b)))
    assert "No status has been recorded yet" in pdf.pages[0].extract_text()


def test_no_incident_means_no_target_and_says_so(fresh_store, people):
    for day in (0, 1, 2):
        for system in ("website", "hub", "email"):
            state = ["outage", "verifying", "restored"][day]
            record_status(
                fresh_store,
                people["it"],
                branch="kent",
                system=system,
                state=state,
                at=at(day),
                now=NOW,
            )
    record_status(
        fresh_store, people["it"], branch="essex", system="hub", state="outage", at=at(2), now=NOW
    )
    b = publishing.draft(fresh_store, at(3))
    assert b.days_since == {} and b.forecast["target"] is None
    assert "(no restoration target is set)" in b.headline
    assert "No incident is recorded." in to_markdown(b)
    assert json.loads(json.dumps(b.to_json()))["headline"] == b.headline


def test_pdf_holds_the_headline_figures_page_numbers_and_as_of_on_every_page(small, people):
    images = pictures(publishing.inputs(small, at(6)), at(6))
    new_id = publishing.publish(
        small,
        people["it"],
        title="Weekly briefing",
        note="Covering — note",
        as_of=at(6),
        now=NOW,
        images=images,
    )
    reader = PdfReader(io.BytesIO(published_file(small, new_id, "pdf")))
    pages = [p.extract_text() for p in reader.pages]
    whole = " ".join(" ".join(p.split()) for p in pages)
    b = publishing.draft(small, at(6))
    assert " ".join(b.headline.split()) in whole
    assert "Systems in service: 1 of 132" in whole and "Covering — note" in whole
    for n, page in enumerate(pages, 1):
        assert f"Page {n} of {len(pages)}" in page
        assert "As of" in page and "(London)" in page
    if shutil.which("chromium"):  # both charts drawn, stored, and placed in the PDF
        assert all(images) and sum(len(p.images) for p in reader.pages) == 2


def test_markdown_escapes_user_text(small, people):
    new_id = publishing.publish(
        small, people["it"], title="**Board** <b>", note="[x](http://x)", as_of=at(6), now=NOW
    )
    md = published_file(small, new_id, "md").decode()
    assert "# \\*\\*Board\\*\\* \\<b\\>" in md and "> \\[x\\](http\\://x)" in md
    assert draft_file(small, at(6), "md").decode().startswith("# Draft briefing")
