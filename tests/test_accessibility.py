"""axe-core finds no WCAG 2.0-2.2 A or AA violation on any page, for any role, phone or laptop.

What is checked and what is excluded (and why) is in tests/axe_kit.py.
"""

import pytest
from axe_kit import axe_violations, format_violations
from browser_kit import BROWSER_TEST, browser, demo_site, sign_in, wait_ready

from restore.demo import DEMO_PASSWORDS

pytestmark = BROWSER_TEST

SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}
PAGES = {  # role (None: not signed in) -> the pages it is checked on
    None: ["public", "sign_in"],
    "chair.west-midlands": ["my_branch", "public"],
    "hq.it": ["overview", "my_branch?branch=kent", "follow_up", "admin", "briefings", "public"],
    "leader": ["overview", "briefings", "admin"],  # admin: the refusal a leader gets
}
CASES = [
    pytest.param(size, user, path, id=f"{size}-{user or 'anonymous'}-{path}")
    for size in SIZES
    for user, paths in PAGES.items()
    for path in paths
]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The real app, served by restore/ui/serve.py, on a fresh demo database."""
    with demo_site(tmp_path_factory.mktemp("a11y")) as (base_url, _):
        yield base_url


@pytest.fixture(scope="module")
def tab_for(base):
    """tab_for(user): one browser tab per role, signed in once and reused at both sizes."""
    tabs = {}
    with browser() as chromium:

        def tab(user: str | None):
            if user not in tabs:
                page = chromium.new_context(viewport=SIZES["laptop"]).new_page()
                if user:
                    sign_in(page, base, user, DEMO_PASSWORDS[user][3])
                tabs[user] = page
            return tabs[user]

        yield tab


@pytest.mark.parametrize(("size", "user", "path"), CASES)
def test_no_axe_violations(base, tab_for, size, user, path):
    page = tab_for(user)
    page.set_viewport_size(SIZES[size])
    page.goto(f"{base}/{path}")  # a fresh load, laid out at this size
    wait_ready(page)
    assert page.locator("[data-testid=stException]").count() == 0, "the page raised an exception"
    assert page.locator("h1").count() >= 1, "the page rendered no title"
    violations = axe_violations(page)
    where = "{} as {} at {} {width}x{height}".format(path, user or "anonymous", size, **SIZES[size])
    if violations:
        pytest.fail(format_violations(violations, where), pytrace=False)
