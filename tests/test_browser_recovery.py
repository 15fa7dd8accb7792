"""Issue 11 in headless Chromium: a chair on a phone (390 x 844) ticks a checklist item with an
evidence file, and has no Recovery page in the menu; HQ IT's Recovery page passes axe."""

import hashlib

import pytest
from axe_kit import axe_violations, format_violations
from browser_kit import BROWSER_TEST, browser, demo_site, sign_in, wait_ready

from restore.demo import DEMO_PASSWORDS
from restore.recovery import checklist

pytestmark = BROWSER_TEST
PHONE = {"width": 390, "height": 844}
CHAIR = "chair.west-midlands"
EVIDENCE = b"Forensic clearance for the West Midlands website.\nNo persistence found.\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with demo_site(tmp_path_factory.mktemp("recovery")) as found:
        yield found


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def signed_in(chromium, base, user):
    page = chromium.new_context(viewport=PHONE).new_page()
    sign_in(page, base, user, DEMO_PASSWORDS[user][3])
    return page


def test_a_chair_ticks_an_item_with_an_evidence_file_on_a_phone(site, chromium, tmp_path):
    base, store = site
    page = signed_in(chromium, base, CHAIR)
    box = page.get_by_test_id("stExpander").filter(has_text="Public website: 0 of 6 done")
    box.get_by_text("Tick what is done; verification needs Malware removed").wait_for()
    assert box.locator("[class*=st-key-narrow_checklist_website]").is_visible()  # cards
    assert not box.locator("[class*=st-key-wide_checklist_website]").is_visible()
    file = tmp_path / "clearance.txt"
    file.write_bytes(EVIDENCE)
    box.locator("input[type=file]").set_input_files(str(file))
    box.get_by_text("clearance.txt").first.wait_for()
    box.get_by_label("What was done (optional)").fill("Checked by the outside firm")
    button = box.get_by_role("button", name="Tick as done")
    size = button.bounding_box()
    assert size["height"] >= 44 and size["width"] <= PHONE["width"]  # a big target
    button.click()
    page.get_by_text(
        "Ticked as done with clearance.txt: Public website, Malware removed."
    ).wait_for()
    wait_ready(page)
    done = {i["key"]: i for i in checklist(store, branch="west-midlands", system="website")}
    (tick,) = done["malware-removed"]["ticks"]
    assert (tick["who"], tick["note"]) == (CHAIR, "Checked by the outside firm")
    assert tick["files"][0]["sha256"] == hashlib.sha256(EVIDENCE).hexdigest()
    page.get_by_test_id("stExpander").filter(has_text="Public website: 1 of 6 done").wait_for()
    assert not page.get_by_role("link", name="Recovery").count()  # not in a chair's menu


def test_the_recovery_page_has_no_axe_violations_on_a_phone(site, chromium):
    """HQ IT's page: every form leadership sees and more."""
    base, _ = site
    user = "hq.it"
    page = signed_in(chromium, base, user)
    page.goto(f"{base}/recovery")
    wait_ready(page)
    page.get_by_text("HQ IT edits the checklists here").wait_for()
    assert page.locator("[data-testid=stException]").count() == 0
    violations = axe_violations(page)
    if violations:
        pytest.fail(format_violations(violations, f"recovery as {user}"), pytrace=False)
