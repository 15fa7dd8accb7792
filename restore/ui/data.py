"""Cached reads for pages: one engine per process; every read keyed on the write counters
that can change its answer (restore.readmodels.versions).

The counters move inside each writing transaction in any process, so a cached frame
is never stale; a rerun that changed nothing costs one tiny query, and a write
elsewhere re-reads only what it changed. Live reads carry no clock in their keys
(see restore.readplan), so nothing is recomputed just because a minute passed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from restore import briefing_files, readplan, schema
from restore.readmodels import versions
from restore.readplan import READERS, Read
from restore.store import Store, database_url, now_utc

# How many times each read was actually computed in this process (cache misses), and when
# each was last computed (the overview says when its figures were read).
READ_THREADS = {"postgresql": 4, "sqlite": 1}
COMPUTED: Counter[str] = Counter()
COMPUTED_AT: dict[Read, datetime] = {}
_COUNTING = threading.Lock()


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return Store(url)


def store() -> Store:
    """The process-wide store for RESTORE_DATABASE_URL."""
    return _store(database_url())


@st.cache_data(show_spinner=False, max_entries=1024)
def _read(url: str, key: tuple, request: Read, _given: Any = None) -> Any:
    """READERS[request.name]'s answer, or `_given` (already read, see load: not hashed)."""
    if _given is not None:
        return _given
    with _COUNTING:  # reads run in threads (see load)
        COMPUTED[request.name] += 1
        COMPUTED_AT[request] = now_utc()
    return READERS[request.name](_store(url), *request.args, **dict(request.kwargs))


def fetch(request: Read) -> Any:
    """One planned read, cached until a write that changes its answer (readmodels.versions).

    The live board is fetched a region at a time, so a write re-reads one region's part."""
    now = versions.current(store())
    parts = readplan.by_region(request, list(_regions(now.revision)))
    if parts:
        return readplan.merge_board([_fetch(part, now) for part in parts])
    return _fetch(request, now)


def _fetch(request: Read, now: versions.Versions, given: Any = None) -> Any:
    key = now.key(request.name, readplan.regions_of(request))
    return _read(database_url(), key, request, given)


# The part keys each split read had after its last load here: when none is still current,
# no part is cached and one whole read is cheaper than a read per region (SQLite at L:
# 0.5 s against 0.8 s). A guess that only costs speed when wrong (a cleared cache).
_PARTS_KNOWN: dict[tuple[str, Read], frozenset] = {}


def forget() -> None:
    """Drop every cached read and what `load` knows of them (tests, a benchmark's first run)."""
    _read.clear()
    _PARTS_KNOWN.clear()


def _cold(read: Read, parts: list[Read], now: versions.Versions) -> bool:
    """Whether none of `read`'s parts is cached yet (as far as this process knows)."""
    keys = frozenset((p, now.key(p.name, readplan.regions_of(p))) for p in parts)
    known = _PARTS_KNOWN.get((database_url(), read), frozenset())
    if len(_PARTS_KNOWN) > 256:
        _PARTS_KNOWN.clear()
    _PARTS_KNOWN[(database_url(), read)] = keys
    return not keys & known


def _whole(read: Read) -> Any:
    """A split read read whole (uncached: its parts are what the cache keeps)."""
    with _COUNTING:
        COMPUTED[read.name] += 1
        COMPUTED_AT[read] = now_utc()
    return READERS[read.name](store(), *read.args, **dict(read.kwargs))


@st.cache_data(show_spinner=False, max_entries=8)
def _regions(revision: int) -> tuple[str, ...]:
    return tuple(sorted(READERS["branches"](store())["region"].unique()))


def read(name: str, *args, **kwargs) -> Any:
    """READERS[name](store, *args, **kwargs), cached until any process writes."""
    return fetch(Read(name, args, tuple(sorted(kwargs.items()))))


def load(plan: dict[str, Read]) -> dict[str, Any]:
    """Every read of a plan, each from the cache when the data has not changed.

    On PostgreSQL the plan's reads run side by side (READ_THREADS): the server works on one while
    Python shapes another's frame. SQLite runs in this process and hands back the GIL at every
    row, so there threads only queued for it (a first draw at L took 3.9 s in four threads,
    3.3 s in one). Each thread carries the page's script context, as Streamlit's
    multithreading guide shows."""
    ctx, now = get_script_run_ctx(), versions.current(store())
    regions = list(_regions(now.revision))
    parts = {key: readplan.by_region(read, regions) or [read] for key, read in plan.items()}
    cold = {key for key, reads in parts.items() if len(reads) > 1 and _cold(plan[key], reads, now)}

    def one(key: str) -> Any:
        """One entry of the plan: a read, or a read split by region (read whole when cold,
        then kept a part per region, so that a later write re-reads one part)."""
        if ctx is not None:
            add_script_run_ctx(threading.current_thread(), ctx)
        reads = parts[key]
        if len(reads) == 1:
            return _fetch(reads[0], now)
        cut = readplan.split_board(_whole(plan[key]), reads) if key in cold else [None] * len(reads)
        return readplan.merge_board([_fetch(r, now, c) for r, c in zip(reads, cut, strict=True)])

    with ThreadPoolExecutor(READ_THREADS.get(store().dialect, 1)) as pool:
        return dict(zip(parts, pool.map(one, parts), strict=True))


def plan_key(plan: dict[str, Read]) -> tuple:
    """One key for everything a plan reads: each read with the counters that can change it.

    Anything drawn from the plan's frames alone may be kept under this key (see `kept`)."""
    now = versions.current(store())
    return tuple((r, now.key(r.name, readplan.regions_of(r))) for r in plan.values())


T = TypeVar("T")


@st.cache_resource(show_spinner=False, max_entries=64)
def _kept(what: str, key: tuple, _make: Callable[[], Any]) -> Any:
    return _make()


def kept(what: str, key: tuple, make: Callable[[], T]) -> T:
    """`make()`, made once per process for each `key` and shared by every session.

    For what is costly to draw and cheap to hand out: composed figures and their charts,
    after a write that does not change them. Callers never change what they get back."""
    return _kept(what, key, make)


def read_at(plan: dict[str, Read]) -> datetime | None:
    """When the newest of a plan's reads was computed in this process (None: not known)."""
    stamps = [COMPUTED_AT[r] for r in plan.values() if r in COMPUTED_AT]
    return max(stamps, default=None)


@st.cache_data(show_spinner=False, max_entries=32)
def _published_pdf(url: str, briefing_id: int) -> bytes:
    return briefing_files.published_file(_store(url), briefing_id, "pdf")


def published_pdf(briefing_id: int) -> bytes:
    """A published briefing never changes, so its PDF is made once per process."""
    return _published_pdf(database_url(), briefing_id)


def schema_ready() -> bool:
    return schema.is_current(store())
