"""Cached reads for pages: one engine per process; every read keyed on the data version.

The version (newest event id, revision) changes on every write in any process,
so a cached frame is never stale, and a page rerun that changed nothing costs
one tiny query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import streamlit as st

from restore import briefing_files, publishing, queries, schema, timelines
from restore.store import Store, database_url

READS: dict[str, Callable[..., Any]] = {
    "board": queries.board,
    "board_as_of": queries.board_as_of,
    "progress": queries.progress,
    "progress_by_system": queries.progress_by_system,
    "durations": timelines.durations,
    "segments": timelines.segments,
    "slippage": timelines.slippage,
    "incidents": queries.incidents_frame,
    "history": queries.history,
    "branches": queries.branch_list,
    "systems": queries.system_list,
    "users": queries.user_list,
    "briefing_draft": publishing.draft,
    "briefing_inputs": publishing.inputs,
    "published_pdf": lambda store, briefing_id: briefing_files.published_file(
        store, briefing_id, "pdf"
    ),
}


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return Store(url)


def store() -> Store:
    """The process-wide store for RESTORE_DATABASE_URL."""
    return _store(database_url())


@st.cache_data(show_spinner=False, max_entries=512)
def _read(name: str, url: str, version: tuple, args: tuple, kwargs: tuple) -> Any:
    return READS[name](_store(url), *args, **dict(kwargs))


def read(name: str, *args, **kwargs) -> Any:
    """READS[name](store, *args, **kwargs), cached until any process writes."""
    return _read(name, database_url(), store().data_version(), args, tuple(sorted(kwargs.items())))


def schema_ready() -> bool:
    return schema.is_current(store())


def minute(t: datetime) -> datetime:
    """Round down to the minute, so "now" makes a reusable cache key."""
    return t.replace(second=0, microsecond=0)
