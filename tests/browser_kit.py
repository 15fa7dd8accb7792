"""Start the real app on a free port and drive it with Debian's headless Chromium (Playwright).

Shared by tests/test_browser.py and scripts/screenshots.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import live_demo_moment

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("RESTORE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]  # fmt: skip


# CI sets RESTORE_REQUIRE_BROWSER=1: there a missing Chromium fails instead of skipping.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("RESTORE_REQUIRE_BROWSER") != "1",
        reason=f"no Chromium at {CHROMIUM}",
    ),
]


@contextmanager
def demo_site(folder: Path):
    """The real app, served by restore/ui/serve.py, on a fresh demo database in `folder`;
    yields (base URL, store)."""
    from restore import schema
    from restore.demo import seed_demo
    from restore.store import Store

    url = f"sqlite:///{folder / 'demo.db'}"
    store = Store(url)
    schema.upgrade(store)
    start, now = live_demo_moment()
    seed_demo(store, start=start, now=now)
    try:
        with running_app(url) as base:
            yield base, store
    finally:
        store.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(db_url: str):
    """`streamlit run restore/ui/serve.py` on a free port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "RESTORE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable, "-m", "streamlit", "run", "restore/ui/serve.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {proc.stdout.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def wait_ready(page, timeout: float = 60_000) -> None:
    """Wait until the script has finished running and nothing is still loading."""
    page.wait_for_selector(
        "[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout
    )
    page.wait_for_function("!document.querySelector('[data-testid=stSkeleton]')", timeout=timeout)
    page.wait_for_timeout(500)


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/sign_in")
    wait_ready(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    deadline = time.monotonic() + 30
    while not [c for c in page.context.cookies() if c["name"] == "restore_session"]:
        if time.monotonic() > deadline:
            raise TimeoutError("no session cookie after signing in")
        page.wait_for_timeout(100)
    page.wait_for_function("!location.pathname.startsWith('/sign_in')", timeout=30_000)
    page.get_by_role("button", name="Sign out").wait_for(timeout=30_000)
    wait_ready(page)


def sign_out(page) -> None:
    """Sign out and wait for the public page that anonymous visitors land on."""
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Service status").wait_for(timeout=30_000)
    wait_ready(page)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a select box; when a click only focuses it, the arrow key opens it."""
    page.get_by_label(label).first.click()
    if not page.get_by_role("option").count():
        page.keyboard.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click()
