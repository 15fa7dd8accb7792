"""End to end in headless Chromium: a chair records a change, HQ IT sees it on the overview grid."""

import pytest
from browser_kit import BROWSER_TEST, browser, choose, demo_site, sign_in, sign_out, wait_ready

from restore.demo import DEMO_PASSWORDS
from restore.directory import actor_for
from restore.records import record_status

pytestmark = BROWSER_TEST
NOTE = "Lost mail again <b>tonight</b> **bold**"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The real app, served by restore/ui/serve.py, on a fresh demo database: (URL, store)."""
    with demo_site(tmp_path_factory.mktemp("browser")) as found:
        yield found


@pytest.fixture
def base(site):
    return site[0]


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def grid_hover(page, branch: str, system: str) -> str:
    """The hover text of one cell of the overview's status grid, read from plotly's data."""
    return page.evaluate(
        """([branch, system]) => {
            const plot = document.querySelector('.js-plotly-plot');
            const grid = plot.data[0];
            return grid.hovertext[grid.y.indexOf(system)][grid.x.indexOf(branch)];
        }""",
        [branch, system],
    )


def test_chair_records_a_change_and_hq_it_sees_it_on_the_overview(site, chromium):
    base, store = site
    # Out of service first: at some hours of the day the demo's own story has West Midlands'
    # email waiting for HQ's checks, where the chair has no form (by design).
    record_status(store, actor_for(store, "hq.it"), branch="west-midlands", system="email",
                  state="outage", note="test setup")  # fmt: skip
    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, base, "chair.west-midlands", DEMO_PASSWORDS["chair.west-midlands"][3])
    page.get_by_role("heading", name="West Midlands").wait_for()
    page.get_by_role("radiogroup").get_by_text("Email", exact=True).click()
    wait_ready(page)
    choose(page, "New state", "Contained (disconnected to stop the spread)")
    page.get_by_label("Note").fill(NOTE)
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Recorded: Email is now Contained").wait_for(timeout=30_000)

    page.reload()  # the HttpOnly cookie keeps the chair signed in across a reload
    wait_ready(page)
    page.get_by_role("heading", name="West Midlands").wait_for()
    sign_out(page)

    sign_in(page, base, "hq.it", DEMO_PASSWORDS["hq.it"][3])
    page.wait_for_selector(".js-plotly-plot")
    hover = grid_hover(page, "West Midlands", "Email")
    assert "Contained" in hover
    assert "&lt;b&gt;tonight&lt;/b&gt; **bold**" in hover  # shown literally, not as HTML


def test_a_second_tab_shares_the_sign_in_and_sign_out_ends_it(base, chromium):
    context = chromium.new_context()
    first = context.new_page()
    sign_in(first, base, "leader", DEMO_PASSWORDS["leader"][3])
    second = context.new_page()
    second.goto(base)
    wait_ready(second)
    second.get_by_role("heading", name="Where are we?").wait_for()
    cookie = next(c for c in context.cookies() if c["name"] == "restore_session")
    assert cookie["httpOnly"]
    sign_out(second)
    assert not [c for c in context.cookies() if c["name"] == "restore_session"]
    first.reload()  # the first tab, still on /overview, is signed out too
    wait_ready(first)
    first.get_by_text("You do not have access to the Overview page").wait_for()


def test_a_page_reached_by_url_without_permission_is_refused(base, chromium):
    page = chromium.new_context().new_page()
    sign_in(page, base, "leader", DEMO_PASSWORDS["leader"][3])
    page.goto(f"{base}/admin")
    wait_ready(page)
    page.get_by_text("You do not have access to the Admin page").wait_for()
    assert page.locator("[data-testid=stDataFrame]").count() == 0
