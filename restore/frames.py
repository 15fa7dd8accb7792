"""Query rows into pandas frames, fast at national scale.

Handing SQLAlchemy Row objects to pandas makes it probe every row for namedtuple
fields (a failed attribute lookup each, 3 s for a million rows); plain tuples go
straight into columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import pandas as pd
from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


def rows_frame(rows: Iterable, columns: Sequence[str], *, raw: bool = False) -> pd.DataFrame:
    """A frame of `rows` (a Result or any iterable of rows) with `columns` in order.

    `raw`: take a Result's rows straight from the driver's cursor, skipping SQLAlchemy's row
    objects; only for queries whose columns need no conversion (text, numbers, raw_time)."""
    if raw:
        found = rows.cursor.fetchall()
        rows.close()
        return pd.DataFrame.from_records(found, columns=list(columns))
    rows = rows.all() if hasattr(rows, "all") else rows  # one fetchall, not a fetch per row
    return pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(columns))


class _RawTime(FunctionElement):
    """A time column as text: SQLite's own; PostgreSQL's cast, since building a million
    time-zone-aware datetime objects in the driver costs more than parsing the text."""

    type = String()
    inherit_cache = True
    name = "raw_time"


@compiles(_RawTime)
def _as_stored(element: _RawTime, compiler, **kw) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(_RawTime, "postgresql")
def _as_text(element: _RawTime, compiler, **kw) -> str:
    return f"CAST({compiler.process(next(iter(element.clauses)), **kw)} AS TEXT)"


def raw_time(col) -> ColumnElement:
    """A time column as text, to be parsed by `times` all at once (a million values
    converted one by one in Python cost seconds). Only for SELECT lists."""
    return _RawTime(col)


def times(values) -> pd.Series:
    """raw_time values (text or datetimes, None for none) as aware UTC times."""
    return pd.to_datetime(values, utc=True, format="ISO8601")


def dates(values: pd.Series) -> pd.Series:
    """Date values as the driver gives them (SQLite: ISO text; PostgreSQL: dates) as dates,
    None for none: one conversion per distinct day, then a lookup per column, not a Python
    step per row (100,000 rows at 4,000 sites)."""
    parsed = {v: date.fromisoformat(v) if isinstance(v, str) else v
              for v in values.dropna().unique()}  # fmt: skip
    out = values.map(parsed).astype(object)
    return out.where(out.notna(), None)
