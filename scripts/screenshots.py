"""Take a PNG of every page, as each role sees it, into docs/screenshots/, and write the example
briefing (docs/briefing-example.pdf and .md) from two published briefings a week apart.

Runs the real app on a fresh demo database: `.venv/bin/python scripts/screenshots.py`.
`scripts/screenshots.py national` takes only overview-national-scale.png: the overview of an
organisation of 344 sites (300 more than the demo, in ten regions), where the status grid
is a region x system heat map. `scripts/screenshots.py only NAME...` retakes only the named
shots (no example briefing, no national scale).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from datetime import timedelta  # noqa: E402

from browser_kit import (  # noqa: E402
    browser,
    choose,
    running_app,
    sign_in,
    sign_out,
    wait_ready,
)

from restore import publishing, schema, sites  # noqa: E402
from restore.briefing_files import published_file  # noqa: E402
from restore.briefing_pdf import pictures  # noqa: E402
from restore.demo import DEMO_PASSWORDS, default_start, seed_demo  # noqa: E402
from restore.directory import SYSTEM, actor_for  # noqa: E402
from restore.store import (  # noqa: E402
    Store,
    now_utc,
)

OUT = ROOT / "docs" / "screenshots"
# (user, path, file name, width, page height[, steps]): laptop (1366) and phone (390) widths,
# tall enough for the whole page, since Streamlit scrolls inside the page rather than the
# window. Steps before the shot: ("tab", name) opens a tab, ("choose", label, option) picks
# an option, ("scroll", text) makes the shot one screen (width x height) starting at a text.
LAPTOP, PHONE = 1366, 390
SHOTS = [
    (None, "public", "public", LAPTOP, 1100),
    (None, "public?branch=kent", "public-phone", PHONE, 1500),
    (None, "sign_in", "sign-in", LAPTOP, 700),
    (None, "sign_in", "sign-in-phone", PHONE, 900),
    ("hq.it", "overview", "overview", LAPTOP, 900),
    ("hq.it", "overview", "overview-full", LAPTOP, 3600),
    ("hq.it", "follow_up", "follow-up", LAPTOP, 1700),
    ("hq.it", "follow_up", "follow-up-phone", PHONE, 5200),
    ("hq.it", "admin", "admin", LAPTOP, 1300),
    ("hq.it", "my_branch?branch=kent", "branch-hq-it", LAPTOP, 2000),
    ("chair.west-midlands", "my_branch", "branch-chair", LAPTOP, 2000),
    ("chair.west-midlands", "my_branch", "branch-chair-phone", PHONE, 3600),
    ("chair.west-midlands", "public", "public-chair-phone", PHONE, 900),
    ("leader", "overview", "overview-leadership", LAPTOP, 900),
    ("leader", "overview", "overview-leadership-phone", PHONE, 2400),
    ("leader", "briefings", "briefings", LAPTOP, 1500),
    ("leader", "briefings", "briefings-phone", PHONE, 2400),
    ("leader", "admin", "refused-leadership-admin", LAPTOP, 500),
    ("hq.it", "recovery", "recovery", LAPTOP, 1500),
    ("leader", "recovery", "recovery-leadership", LAPTOP, 1500),
    ("leader", "recovery", "recovery-closing-leadership", LAPTOP, 2400,
     [("tab", "Closing an incident"), ("choose", "Incident to close or review",
                                       "HQ malware attack (closed)")]),
    ("chair.west-midlands", "my_branch", "branch-chair-checklist-phone", PHONE, 844,
     [("scroll", "Recovery checklists")]),
]  # fmt: skip


def example_briefing(store: Store) -> None:
    leader = actor_for(store, "leader")
    now = now_utc()
    for title, as_of, note in (
        ("Weekly briefing", now - timedelta(days=7), ""),
        (
            "Weekly briefing for the board",
            now,
            "Prepared for Thursday's board meeting. Figures are as recorded by branches and HQ IT.",
        ),
    ):
        images = pictures(publishing.inputs(store, as_of), as_of)
        new_id = publishing.publish(
            store, leader, title=title, note=note, as_of=as_of, images=images, now=as_of
        )
    (ROOT / "docs" / "briefing-example.pdf").write_bytes(published_file(store, new_id, "pdf"))
    (ROOT / "docs" / "briefing-example.md").write_bytes(published_file(store, new_id, "md"))
    print("wrote docs/briefing-example.pdf and .md")


NATIONAL_REGIONS = (
    "Anglia", "Borders", "Cymru", "Highlands", "Marches", "Northern", "Pennines", "Solent",
    "Thames", "Wessex",
)  # fmt: skip


def national_scale(tmp: str) -> None:
    """The overview of a 344-site organisation (the demo's 44 and 300 more) at laptop width."""
    url = f"sqlite:///{tmp}/national.db"
    store = Store(url)
    schema.upgrade(store)
    per = len(NATIONAL_REGIONS)
    rows = "".join(
        f"{r} {n:02d},{r.lower()}-{n:02d},{r}\n"
        for r, n in ((NATIONAL_REGIONS[i % per], i // per + 1) for i in range(300))
    )
    sites.load(
        store,
        SYSTEM,
        branch_csv=("name,slug,region\n" + rows).encode(),
        system_csv=b"key,name\nwebsite,Public website\nhub,The Hub\nemail,Email\n",
    )
    seed_demo(store, start=default_start())
    store.dispose()
    with running_app(url) as base, browser() as b:
        page = b.new_page(viewport={"width": LAPTOP, "height": 1900})
        sign_in(page, base, "hq.it", DEMO_PASSWORDS["hq.it"][3])
        page.goto(f"{base}/overview")
        wait_ready(page)
        page.wait_for_timeout(2500)  # let plotly finish drawing
        page.screenshot(path=str(OUT / "overview-national-scale.png"), full_page=True)
        print("wrote docs/screenshots/overview-national-scale.png")


def take(base: str, shots: list[tuple]) -> None:
    """Sign in as each shot's user in turn and save its PNG."""
    with browser() as b:
        page = b.new_page(viewport={"width": LAPTOP, "height": 900})
        current = None
        for user, path, name, width, height, *steps in shots:
            if user != current:  # before resizing: a phone-sized page hides the sidebar
                if current:
                    sign_out(page)
                if user:
                    sign_in(page, base, user, DEMO_PASSWORDS[user][3])
                current = user
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{base}/{path}")
            wait_ready(page)
            page.wait_for_timeout(1500)  # let plotly finish drawing
            scrolled = False
            for step in steps[0] if steps else []:
                if step[0] == "tab":
                    page.get_by_role("tab", name=step[1]).click()
                elif step[0] == "choose":
                    choose(page, step[1], step[2])
                else:
                    page.get_by_text(step[1], exact=True).first.evaluate(
                        "e => e.scrollIntoView({block: 'start'})"
                    )
                    scrolled = True
                wait_ready(page)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=not scrolled)
            print(f"wrote docs/screenshots/{name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if sys.argv[1:] == ["national"]:
        with tempfile.TemporaryDirectory() as tmp:
            national_scale(tmp)
        return
    only = set(sys.argv[2:]) if sys.argv[1:2] == ["only"] else None
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        store = Store(url)
        schema.upgrade(store)
        seed_demo(store, start=default_start())
        if only is None:
            example_briefing(store)
        store.dispose()
        with running_app(url) as base:
            take(base, [s for s in SHOTS if only is None or s[2] in only])
        if only is None:
            national_scale(tmp)  # its own app, on its own database


if __name__ == "__main__":
    main()
