"""The dashboard with its sign-in cookie routes: `streamlit run restore/ui/serve.py`.

Streamlit pages cannot set cookies, so two small HTTP routes do: one trades a
fresh sign-in's one-use ticket for a signed HttpOnly session cookie, the other
deletes it on sign-out.
"""

import os
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `streamlit run restore/ui/serve.py` puts only this folder there
    sys.path.insert(0, str(ROOT))

import streamlit as st
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from restore.auth import COOKIE_NAME, IDLE_LIMIT, end_session, exchange_ticket
from restore.store import Store, database_url

DASHBOARD = ROOT / "dashboard.py"
os.environ["RESTORE_COOKIE_ROUTES"] = "1"  # tells the pages that these routes exist


@cache
def store() -> Store:
    return Store(database_url())


def _home(request: Request) -> RedirectResponse:
    target = request.query_params.get("next", "/")
    return RedirectResponse(target if target.startswith("/") and "//" not in target else "/", 303)


async def set_session(request: Request) -> RedirectResponse:
    cookie = exchange_ticket(store(), request.query_params.get("t"))
    response = _home(request)
    if cookie:
        response.set_cookie(
            COOKIE_NAME,
            cookie,
            httponly=True,
            samesite="lax",
            path="/",
            max_age=int(IDLE_LIMIT.total_seconds()) * 3,
            secure="https" in (request.url.scheme, request.headers.get("x-forwarded-proto")),
        )
    return response


async def clear_session(request: Request) -> RedirectResponse:
    end_session(store(), request.cookies.get(COOKIE_NAME))
    response = _home(request)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


app = st.App(
    DASHBOARD,
    routes=[Route("/api/session", set_session), Route("/api/sign-out", clear_session)],
)
