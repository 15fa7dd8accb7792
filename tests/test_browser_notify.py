"""A reminder's one-tap link in headless Chromium on a phone (390 x 844): the chair checks in
with one tap, without signing in; an invitation's link sets a password; HQ IT then sees the
check-in and "last chased" on Follow-up. Both link pages pass axe-core."""

import os
import re

import pytest
from axe_kit import axe_violations, format_violations
from browser_kit import BROWSER_TEST, browser, demo_site, sign_in, wait_ready
from notify_kit import receiver

from restore import auth, notify, queries
from restore.demo import DEMO_PASSWORDS
from restore.directory import actor_for
from restore.store import now_utc
from restore.transfer import export_rows

pytestmark = BROWSER_TEST
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with demo_site(tmp_path_factory.mktemp("notify")) as (base, store):
        old = os.environ.get("RESTORE_BASE_URL")
        os.environ["RESTORE_BASE_URL"] = base  # links the test forms lead to this app
        try:
            yield base, store
        finally:
            if old is None:
                os.environ.pop("RESTORE_BASE_URL", None)
            else:
                os.environ["RESTORE_BASE_URL"] = old


def test_a_chair_checks_in_with_one_tap_from_a_reminder_and_hq_it_sees_it(site):
    base, store = site
    hq = actor_for(store, "hq.it")
    quiet = queries.stale(queries.board(store), now_utc()).iloc[0]
    chair, branch = f"chair.{quiet['slug']}", quiet["branch"]
    with receiver() as inbox:
        notify.add_channel(store, hq, username=chair, url=inbox.url("chair"))
        notify.remind(store, hq)
        (message,) = inbox.wait_for(1)
    link = next(w for w in message["message"].split() if w.startswith(base))
    before = len(export_rows(store, hq))

    with browser() as chromium:
        page = chromium.new_context(viewport=PHONE).new_page()
        page.goto(link)
        wait_ready(page)
        page.get_by_role("heading", name=f"{branch}: has anything changed?").wait_for()
        assert not (found := axe_violations(page)), format_violations(found)
        button = page.get_by_role("button", name="Nothing has changed")
        box = button.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"] and box["height"] >= 44
        assert box["width"] >= PHONE["width"] * 0.8  # a big target, the width of the screen
        button.click()
        page.get_by_role("heading", name="Thank you").wait_for()
        page.get_by_text(re.compile(f"Check-in recorded for {branch}")).wait_for()
        new = export_rows(store, hq)[before:]
        assert new and {(r["branch"], r["who"], r["source"]) for r in new} == {
            (quiet["slug"], chair, "link"),
        }  # fmt: skip

        page.goto(link)  # a second tap on the same link records nothing
        wait_ready(page)
        page.get_by_text("already been used").wait_for()
        assert not (found := axe_violations(page)), format_violations(found)
        assert len(export_rows(store, hq)) == before + len(new)

        invite = notify.invite(store, hq, username="chair.kent").url
        page.goto(invite)
        wait_ready(page)
        page.get_by_role("heading", name="Choose your password").wait_for()
        assert not (found := axe_violations(page)), format_violations(found)
        page.get_by_label("New password (at least 8 characters)").fill("kent's new pw")
        page.get_by_label("The same password again").fill("kent's new pw")
        page.get_by_role("button", name="Save my password").click()
        page.get_by_role("heading", name="Password saved").wait_for()
        assert auth.sign_in(store, "chair.kent", "kent's new pw").username == "chair.kent"

        hq_page = chromium.new_context(viewport=PHONE).new_page()
        sign_in(hq_page, base, "hq.it", DEMO_PASSWORDS["hq.it"][3])
        hq_page.goto(f"{base}/follow_up")
        wait_ready(hq_page)
        hq_page.get_by_role("heading", name=re.compile("Reminders sent")).wait_for()
        card = hq_page.locator("[class*=st-key-card_chased_0]").inner_text()
        assert card.startswith(branch)
        assert f"Chair: {chair}" in card and "Reminder: delivered" in card
        assert "Last chased:" in card and "Checked in by link: not yet" not in card
        assert re.search(r"Checked in by link: \d\d \w+ \d{4} \d\d:\d\d", card), card
