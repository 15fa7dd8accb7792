"""The dashboard with its sign-in cookie routes: `streamlit run restore/ui/serve.py`.

Streamlit pages cannot set cookies, so two small HTTP routes do: one trades a
fresh sign-in's one-use ticket for a signed HttpOnly session cookie, the other
deletes it on sign-out. A middleware gives each browser, with its first page, the
random nonce cookie that binds a ticket to the browser that signed in.
"""

import os
import secrets
import sys
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `streamlit run restore/ui/serve.py` puts only this folder there
    sys.path.insert(0, str(ROOT))

import streamlit as st
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from restore.auth import COOKIE_NAME, IDLE_LIMIT, NONCE_COOKIE, end_session, exchange_ticket
from restore.store import Store, database_url

DASHBOARD = ROOT / "dashboard.py"
os.environ["RESTORE_COOKIE_ROUTES"] = "1"  # tells the pages that these routes exist
CROSS_SITE_SIGN_OUT = "Refused: sign out with the button in Restore's own menu."


@cache
def store() -> Store:
    return Store(database_url())


def _secure(request: Request) -> bool:
    return "https" in (request.url.scheme, request.headers.get("x-forwarded-proto"))


def _home(request: Request) -> RedirectResponse:
    target = request.query_params.get("next", "/")
    return RedirectResponse(target if target.startswith("/") and "//" not in target else "/", 303)


def same_origin(request: Request) -> bool:
    """Did the browser send this from one of our own pages (or the address bar)?

    Sec-Fetch-Site where the browser sends it, else Origin or Referer against Host;
    a request that proves nothing is refused.
    """
    site = request.headers.get("sec-fetch-site")
    if site:
        return site in ("same-origin", "none")  # "none": typed, bookmarked
    source = request.headers.get("origin") or request.headers.get("referer")
    return bool(source) and urlsplit(source).netloc == request.headers.get("host")


async def set_session(request: Request) -> RedirectResponse:
    """Only the browser that signed in (it holds the ticket's nonce) gets the cookie."""
    cookie = exchange_ticket(
        store(), request.query_params.get("t"), request.cookies.get(NONCE_COOKIE)
    )
    response = _home(request)
    if cookie:
        response.set_cookie(
            COOKIE_NAME,
            cookie,
            httponly=True,
            samesite="lax",
            path="/",
            max_age=int(IDLE_LIMIT.total_seconds()) * 3,
            secure=_secure(request),
        )
    return response


async def clear_session(request: Request) -> Response:
    """Sign out, unless another site sent the browser here (it would sign users out at will)."""
    if not same_origin(request):
        return PlainTextResponse(CROSS_SITE_SIGN_OUT, status_code=403)
    end_session(store(), request.cookies.get(COOKIE_NAME))
    response = _home(request)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


def _nonce_header(request: Request) -> str:
    response = Response()
    nonce = secrets.token_urlsafe(32)
    response.set_cookie(
        NONCE_COOKIE, nonce, httponly=True, samesite="lax", path="/", secure=_secure(request)
    )
    return response.headers["set-cookie"]


class NonceCookie:
    """Sets the sign-in nonce cookie on a page load that lacks one.

    Only page loads (GET accepting HTML): the page's websocket opens after the page,
    so st.context.cookies sees the nonce, and no parallel asset request overwrites it.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        if not page or NONCE_COOKIE in request.cookies:
            return await self.app(scope, receive, send)
        header = _nonce_header(request)

        async def send_with_nonce(message):
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_nonce)


ROUTES = [Route("/api/session", set_session), Route("/api/sign-out", clear_session)]
app = st.App(DASHBOARD, routes=ROUTES, middleware=[Middleware(NonceCookie)])
