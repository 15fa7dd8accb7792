"""Cached reads for pages: one engine per process, reads keyed on the data version."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from restore import queries, schema
from restore.store import Store, database_url


@st.cache_resource(show_spinner=False)
def get_store(url: str | None = None) -> Store:
    """One engine (and connection pool) per process and database URL."""
    return Store(url or database_url())


def store() -> Store:
    return get_store(database_url())


@st.cache_data(show_spinner=False, max_entries=64)
def _board(url: str, version: tuple[int, int]) -> pd.DataFrame:
    return queries.board(get_store(url))


def board() -> pd.DataFrame:
    """The current board; re-read whenever any process has written since."""
    s = store()
    return _board(database_url(), s.data_version())


def schema_ready() -> bool:
    return schema.is_current(store())
