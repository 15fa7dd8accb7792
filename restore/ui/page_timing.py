"""The overview page timed through Streamlit's AppTest, for `python -m restore.bench` (the
benchmark itself stays free of Streamlit; only the UI package imports it)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from restore.auth import start_session
from restore.store import Store
from restore.ui import data
from restore.ui.session import SESSION_KEY

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard.py"


def overview_timings(
    url: str,
    store: Store,
    user: str,
    unrelated: Callable[[], object],
    check_in: Callable[[], object],
) -> dict:
    """`user`'s overview: first run (empty caches), a rerun with nothing changed, a rerun after
    `unrelated()` (a write that changes no figure) and one after `check_in()`."""
    old = os.environ.get("RESTORE_DATABASE_URL")
    os.environ["RESTORE_DATABASE_URL"] = url
    st.cache_data.clear()
    st.cache_resource.clear()
    data.forget()
    try:
        at = AppTest.from_file(str(DASHBOARD), default_timeout=3600)
        at.session_state[SESSION_KEY] = start_session(store, user)
        out = {"first_run_s": _run(at)}
        titles = [t.value for t in at.title]
        out["page"] = titles[0] if titles else ""
        out["exception"] = [str(e.value)[:300] for e in at.exception]
        out["rerun_s"] = _run(at)
        unrelated()
        out["after_unrelated_write_s"] = _run(at)
        check_in()
        out["after_check_in_s"] = _run(at)
        out["exception"] += [str(e.value)[:300] for e in at.exception]
        return out
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()  # the page's engine stays open otherwise
        if old is None:
            os.environ.pop("RESTORE_DATABASE_URL", None)
        else:
            os.environ["RESTORE_DATABASE_URL"] = old


def _run(at: AppTest) -> float:
    t = time.perf_counter()
    at.run()
    return round(time.perf_counter() - t, 4)
