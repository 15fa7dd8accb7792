"""More than one machine (issue 9, item 5): two real app processes on one PostgreSQL database,
as behind a load balancer. A sign-in made on one is honoured by the other (sessions live in
the database), and a change written anywhere shows on the other's page at its next run
(each process's caches are keyed on the database's data version, not on a clock)."""

import os
import time
import uuid
from contextlib import ExitStack, suppress

import pytest
from browser_kit import BROWSER_TEST, browser, running_app, sign_in, wait_ready
from conftest import PG_ADMIN_URL, PG_OK, pg_schema

from restore import schema
from restore.directory import SYSTEM, actor_for, add_user, seed_reference
from restore.records import record_status
from restore.store import Store

pytestmark = [
    *BROWSER_TEST,
    pytest.mark.skipif(
        not PG_OK and os.environ.get("RESTORE_REQUIRE_BROWSER") != "1",
        reason=f"PostgreSQL not reachable at {PG_ADMIN_URL}",
    ),
]
PASSWORD = "multi-process-test"
SEEN_WITHIN = 2.0  # seconds from the write's commit to the other process's page showing it


RUNNING = "[data-testid=stApp][data-test-script-state=running]"
NOT_RUNNING = "[data-testid=stApp][data-test-script-state=notRunning]"


def rerun(page) -> None:
    """Run the page's script again in the same session (Streamlit's "r" shortcut), as any
    click would, and wait until it has finished."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_selector(NOT_RUNNING, timeout=10_000)
    page.keyboard.press("r")
    with suppress(PlaywrightTimeout):  # too quick to catch running: the caller checks
        page.wait_for_selector(RUNNING, timeout=1_000)
    page.wait_for_selector(NOT_RUNNING, timeout=10_000)


@pytest.fixture(scope="module")
def two_apps():
    """Two `streamlit run restore/ui/serve.py` processes on one fresh PostgreSQL schema."""
    with pg_schema() as url, ExitStack() as stack:
        store = Store(url)
        stack.callback(store.dispose)
        schema.upgrade(store)
        seed_reference(store)
        add_user(store, SYSTEM, username="hq.it", role="hq-it", password=PASSWORD)
        yield stack.enter_context(running_app(url)), stack.enter_context(running_app(url)), store


def test_a_change_written_anywhere_shows_on_the_other_process_page_within_two_seconds(two_apps):
    base_a, base_b, store = two_apps
    assert base_a != base_b
    note = f"multi-process check {uuid.uuid4().hex[:8]}"
    with browser() as chromium:
        # Phone width: the branch page's tables are cards of plain text there.
        page = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
        sign_in(page, base_a, "hq.it", PASSWORD)
        # The session cookie from process A is honoured by process B: one session table.
        page.goto(f"{base_b}/my_branch?branch=kent")
        wait_ready(page)
        page.get_by_role("button", name="Sign out").wait_for(timeout=10_000)
        page.get_by_role("heading", name="Kent").wait_for(timeout=10_000)
        # How long one run of this page takes here, with nothing new to read: on a loaded
        # machine (CI, two cores) that alone can pass two seconds; a change must then show
        # within a few runs' time, and it shows on the first run after the write.
        started = time.monotonic()
        rerun(page)
        one_run = time.monotonic() - started
        assert not page.get_by_text(note).count()

        record_status(store, actor_for(store, "hq.it"), branch="kent", system="email",
                      state="outage", note=note)  # fmt: skip
        written, runs = time.monotonic(), 0
        while not page.get_by_text(note).count():
            assert time.monotonic() - written < 15, "process B never showed the change"
            rerun(page)
            runs += 1
        seen = time.monotonic() - written
    said = f"process B showed it after {seen:.1f} s and {runs} runs (one run: {one_run:.1f} s)"
    print(said)
    assert seen < max(SEEN_WITHIN, 3 * one_run), said
