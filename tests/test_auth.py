"""Sign-in, lockout after five failures, and revocable sessions that expire after 8 idle hours."""

import asyncio
import importlib
import os
import shutil
from datetime import timedelta

import pytest
from browser_kit import CHROMIUM
from conftest import NOW, live_demo_moment, snapshot
from sqlalchemy import func, select
from starlette.requests import Request

from restore import audit, schema
from restore.access import PermissionDenied
from restore.auth import (
    COOKIE_NAME,
    GENERIC_FAILURE,
    NONCE_COOKIE,
    SignInFailed,
    actor_by_email,
    end_session,
    exchange_ticket,
    issue_ticket,
    resume_session,
    sign_in,
    start_session,
)
from restore.directory import SYSTEM, add_user, update_user
from restore.records import NotFound, ValidationError
from restore.store import Store, sessions

PASSWORD = "correct horse"


@pytest.fixture
def account(fresh_store):
    add_user(fresh_store, SYSTEM, username="wm", role="chair", branch="west-midlands",
             password=PASSWORD, email="Chair@Example.org")  # fmt: skip
    return fresh_store


def test_right_password_signs_in_with_role_and_branch(account):
    actor = sign_in(account, "wm", PASSWORD, now=NOW)
    assert (actor.username, actor.role) == ("wm", "chair") and actor.branch_id


@pytest.mark.parametrize(("name", "password"), [("wm", "wrong"), ("nobody", PASSWORD), ("", "")])
def test_wrong_name_or_password_gets_one_generic_message(account, name, password):
    with pytest.raises(SignInFailed) as err:
        sign_in(account, name, password, now=NOW)
    assert str(err.value) == GENERIC_FAILURE


def test_five_failures_lock_the_account_for_fifteen_minutes(account):
    for _ in range(5):
        with pytest.raises(SignInFailed):
            sign_in(account, "wm", "wrong", now=NOW)
    with pytest.raises(SignInFailed, match=r"^Sign-in failed"):  # even the right password now
        sign_in(account, "wm", PASSWORD, now=NOW + timedelta(minutes=14))
    assert sign_in(account, "wm", PASSWORD, now=NOW + timedelta(minutes=15, seconds=1))


def test_a_success_resets_the_failure_count(account):
    for _ in range(4):
        with pytest.raises(SignInFailed):
            sign_in(account, "wm", "wrong", now=NOW)
    sign_in(account, "wm", PASSWORD, now=NOW)
    for _ in range(4):
        with pytest.raises(SignInFailed):
            sign_in(account, "wm", "wrong", now=NOW)
    assert sign_in(account, "wm", PASSWORD, now=NOW)


def test_session_cookie_resumes_until_sign_out(account):
    cookie = start_session(account, "wm", now=NOW)
    assert resume_session(account, cookie, now=NOW + timedelta(hours=1)).username == "wm"
    end_session(account, cookie, now=NOW + timedelta(hours=2))
    assert resume_session(account, cookie, now=NOW + timedelta(hours=2)) is None


def test_session_expires_after_eight_idle_hours_but_use_keeps_it_alive(account):
    cookie = start_session(account, "wm", now=NOW)
    for hours in (7, 14, 21):  # used every 7 hours: still alive after 21
        assert resume_session(account, cookie, now=NOW + timedelta(hours=hours))
    assert resume_session(account, cookie, now=NOW + timedelta(hours=29, minutes=1)) is None


@pytest.mark.parametrize(
    "tamper",
    [lambda c: c[:-1] + ("1" if c.endswith("0") else "0"), lambda c: "x" + c, lambda c: "", None],
)
def test_forged_or_altered_cookies_are_refused(account, tamper):
    cookie = start_session(account, "wm", now=NOW)
    assert resume_session(account, tamper(cookie) if tamper else None, now=NOW) is None


def test_email_matches_a_local_account_case_insensitively(account):
    assert actor_by_email(account, "chair@example.org").username == "wm"
    assert actor_by_email(account, "someone@example.org") is None


def test_deactivating_a_user_signs_them_out_and_a_new_password_unlocks(fresh_store, people):
    update_user(fresh_store, people["it"], username="wm", password=PASSWORD)
    cookie = start_session(fresh_store, "wm", now=NOW)
    update_user(fresh_store, people["it"], username="wm", active=False)
    assert resume_session(fresh_store, cookie, now=NOW) is None
    with pytest.raises(SignInFailed):
        sign_in(fresh_store, "wm", PASSWORD, now=NOW)
    update_user(fresh_store, people["it"], username="wm", active=True, password="a new password")
    assert sign_in(fresh_store, "wm", "a new password", now=NOW).username == "wm"


def test_only_hq_it_changes_users_and_not_their_own_activity(fresh_store, people):
    before = snapshot(fresh_store)
    with pytest.raises(PermissionDenied):
        update_user(fresh_store, people["boss"], username="wm", active=False)
    with pytest.raises(ValidationError, match="cannot deactivate your own"):
        update_user(fresh_store, people["it"], username="it", active=False)
    with pytest.raises(NotFound):
        update_user(fresh_store, people["it"], username="ghost", active=False)
    assert snapshot(fresh_store) == before


# --- sign-in tickets: one use, one minute, one browser --------------------------

NONCE = "nonce-of-browser-a"


def _sessions(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(sessions)).scalar_one()


def test_a_ticket_is_traded_once_for_a_cookie_in_the_browser_that_signed_in(account):
    ticket = issue_ticket(account, "wm", nonce=NONCE, now=NOW)
    cookie = exchange_ticket(account, ticket, NONCE, now=NOW + timedelta(seconds=30))
    assert resume_session(account, cookie, now=NOW + timedelta(minutes=1)).username == "wm"
    assert exchange_ticket(account, ticket, NONCE, now=NOW + timedelta(seconds=31)) is None


def test_a_ticket_is_never_a_session_cookie_nor_a_cookie_a_ticket(account):
    ticket = issue_ticket(account, "wm", nonce=NONCE, now=NOW)
    token, signature = ticket.split(".")
    for forged in (ticket, f"ticket.{token}.{signature}", f"{token}.{signature}"):
        assert resume_session(account, forged, now=NOW) is None
    cookie = start_session(account, "wm", now=NOW)
    assert exchange_ticket(account, cookie, NONCE, now=NOW) is None
    assert exchange_ticket(account, ticket, NONCE, now=NOW)  # the ticket itself still works


@pytest.mark.parametrize("nonce", ["nonce-of-browser-b", "", None])
def test_a_ticket_brought_by_another_browser_signs_nobody_in_and_is_used_up(account, nonce):
    ticket = issue_ticket(account, "wm", nonce=NONCE, now=NOW)
    before = _sessions(account)
    assert exchange_ticket(account, ticket, nonce, now=NOW) is None
    assert exchange_ticket(account, ticket, NONCE, now=NOW) is None  # gone for its owner too
    assert _sessions(account) == before
    (entry,) = audit.entries(account, limit=1).itertuples()
    assert (entry.action, entry.subject) == ("signin.failed", "wm")
    assert "another browser" in entry.details


def test_a_ticket_lasts_one_minute(account):
    ticket = issue_ticket(account, "wm", nonce=NONCE, now=NOW)
    assert exchange_ticket(account, ticket, NONCE, now=NOW + timedelta(seconds=61)) is None


def test_a_browser_without_the_nonce_cookie_gets_no_ticket(account):
    before = _sessions(account), snapshot(account)
    with pytest.raises(SignInFailed, match="needs cookies"):
        issue_ticket(account, "wm", nonce="", now=NOW)
    assert (_sessions(account), snapshot(account)) == before


# --- the cookie routes ----------------------------------------------------------------

HOST = "restore.example"


@pytest.fixture
def serve(monkeypatch, account):
    """restore/ui/serve.py's routes, on the test database (its env flag undone afterwards)."""
    monkeypatch.setenv("RESTORE_COOKIE_ROUTES", "1")
    module = importlib.import_module("restore.ui.serve")
    monkeypatch.setattr(module, "store", lambda: account)
    return module


def request(path: str, query: str = "", cookies=None, headers=None) -> Request:
    raw = {"host": HOST, **(headers or {})}
    if cookies:
        raw["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query.encode(),
            "headers": [(k.encode(), v.encode()) for k, v in raw.items()],
            "scheme": "http",
            "server": (HOST, 80),
        }
    )


def call(route, req):
    return asyncio.run(route(req))


def test_the_session_route_sets_the_cookie_only_in_the_browser_that_signed_in(serve, account):
    stolen = issue_ticket(account, "wm", nonce=NONCE)
    elsewhere = call(serve.set_session, request("/api/session", f"t={stolen}",
                                                {NONCE_COOKIE: "nonce-of-browser-b"}))  # fmt: skip
    assert elsewhere.status_code == 303 and "set-cookie" not in elsewhere.headers
    ticket = issue_ticket(account, "wm", nonce=NONCE)
    here = call(serve.set_session, request("/api/session", f"t={ticket}", {NONCE_COOKIE: NONCE}))
    cookie = here.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert resume_session(account, value).username == "wm"


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},  # a sibling sub-domain is another site's page
        {"origin": "https://evil.example"},
        {"referer": "https://evil.example/page"},
        {},  # proves nothing
    ],
)
def test_a_cross_site_sign_out_is_refused_and_revokes_nothing(serve, account, headers):
    cookie = start_session(account, "wm")
    response = call(
        serve.clear_session, request("/api/sign-out", "", {COOKIE_NAME: cookie}, headers)
    )
    assert response.status_code == 403 and "set-cookie" not in response.headers
    assert resume_session(account, cookie).username == "wm"


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "none"},  # typed into the address bar
        {"origin": f"https://{HOST}"},
        {"referer": f"https://{HOST}/overview"},
    ],
)
def test_a_sign_out_from_our_own_pages_revokes_and_deletes_the_cookie(serve, account, headers):
    cookie = start_session(account, "wm")
    response = call(
        serve.clear_session, request("/api/sign-out", "", {COOKIE_NAME: cookie}, headers)
    )
    assert response.status_code == 303
    assert response.headers["set-cookie"].startswith(f'{COOKIE_NAME}="";')
    assert resume_session(account, cookie) is None


def _through_middleware(serve, scope_type="http", accept="text/html", cookies=None) -> list:
    sent = []

    async def page(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"<html></html>"})

    async def send(message):
        sent.append(message)

    scope = request("/sign_in", "", cookies, {"accept": accept}).scope | {"type": scope_type}
    asyncio.run(serve.NonceCookie(page)(scope, None, send))
    return [v.decode() for k, v in sent[0]["headers"] if k == b"set-cookie"]


def test_a_page_load_without_a_nonce_gets_one_and_nothing_else_does(serve):
    (set_cookie,) = _through_middleware(serve)
    assert set_cookie.startswith(f"{NONCE_COOKIE}=") and "HttpOnly" in set_cookie
    assert _through_middleware(serve, cookies={NONCE_COOKIE: NONCE}) == []
    assert _through_middleware(serve, accept="*/*") == []  # scripts, images, fonts


# --- in a real browser -----------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(
    not shutil.which(CHROMIUM) and os.environ.get("RESTORE_REQUIRE_BROWSER") != "1",
    reason=f"no Chromium at {CHROMIUM}",
)
def test_a_ticket_url_opened_in_another_browser_signs_nobody_in(tmp_path):
    from browser_kit import browser, running_app, sign_in, wait_ready

    from restore.demo import DEMO_PASSWORDS, seed_demo

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    store = Store(url)
    schema.upgrade(store)
    start, now = live_demo_moment()
    seed_demo(store, start=start, now=now)
    with running_app(url) as base, browser() as chromium:
        a = chromium.new_context().new_page()
        tickets = []  # browser A signs in, but its trip to the cookie route is stopped
        a.route("**/api/session*", lambda route: (tickets.append(route.request.url), route.abort()))
        a.goto(f"{base}/sign_in")
        wait_ready(a)
        a.get_by_role("textbox", name="Username").fill("leader")
        a.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS["leader"][3])
        a.get_by_role("button", name="Sign in").click()
        for _ in range(300):
            if tickets:
                break
            a.wait_for_timeout(100)
        b = chromium.new_context().new_page()
        b.goto(base)
        wait_ready(b)
        b.goto(tickets[0])
        wait_ready(b)
        assert not [c for c in b.context.cookies() if c["name"] == COOKIE_NAME]
        b.get_by_role("heading", name="Service status").wait_for()  # anonymous: the public page
        a.unroute("**/api/session*")
        sign_in(a, base, "leader", DEMO_PASSWORDS["leader"][3])  # A itself signs in fine
    store.dispose()
