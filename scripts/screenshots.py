"""Take a PNG of every page, as each role sees it, into docs/screenshots/.

Runs the real app on a fresh demo database: `.venv/bin/python scripts/screenshots.py`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_kit import browser, running_app, sign_in, sign_out, wait_ready  # noqa: E402

from restore import schema  # noqa: E402
from restore.demo import DEMO_PASSWORDS, default_start, seed_demo  # noqa: E402
from restore.store import Store  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
# (user, path, file name, page height): a laptop-sized first screen, taller where pages scroll.
SHOTS = [
    (None, "public", "public", 1100),
    (None, "sign_in", "sign-in", 700),
    ("hq.it", "overview", "overview", 900),
    ("hq.it", "overview", "overview-full", 3000),
    ("hq.it", "follow_up", "follow-up", 1500),
    ("hq.it", "admin", "admin", 1000),
    ("hq.it", "my_branch?branch=kent", "branch-hq-it", 1900),
    ("chair.west-midlands", "my_branch", "branch-chair", 1900),
    ("leader", "overview", "overview-leadership", 900),
    ("leader", "admin", "refused-leadership-admin", 500),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        store = Store(url)
        schema.upgrade(store)
        seed_demo(store, start=default_start())
        store.dispose()
        with running_app(url) as base, browser() as b:
            page = b.new_page(viewport={"width": 1440, "height": 900})
            current = None
            for user, path, name, height in SHOTS:
                page.set_viewport_size({"width": 1440, "height": height})
                if user != current:
                    if current:
                        sign_out(page)
                    if user:
                        sign_in(page, base, user, DEMO_PASSWORDS[user][3])
                    current = user
                page.goto(f"{base}/{path}")
                wait_ready(page)
                page.wait_for_timeout(1500)  # let plotly finish drawing
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                print(f"wrote docs/screenshots/{name}.png")


if __name__ == "__main__":
    main()
