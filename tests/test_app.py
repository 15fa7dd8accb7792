"""The dashboard in the real Streamlit runtime (AppTest)."""

from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from restore import schema
from restore.demo import seed_demo
from restore.store import Store

ROOT = Path(__file__).parents[1]


@pytest.fixture
def demo_url(sqlite_url, monkeypatch):
    store = Store(sqlite_url)
    schema.upgrade(store)
    seed_demo(store, start=date(2026, 1, 1))
    store.dispose()
    monkeypatch.setenv("RESTORE_DATABASE_URL", sqlite_url)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield sqlite_url
    st.cache_data.clear()
    st.cache_resource.clear()


def test_first_dashboard_shows_the_board(demo_url):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()
    assert not at.exception
    assert at.metric[0].label == "Systems in service"
    frame = at.dataframe[0].value
    assert len(frame) == 132 and "West Midlands" in set(frame["branch"])
