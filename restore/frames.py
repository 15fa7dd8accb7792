"""Query rows into pandas frames, fast at national scale.

Handing SQLAlchemy Row objects to pandas makes it probe every row for namedtuple
fields (a failed attribute lookup each, 3 s for a million rows); plain tuples go
straight into columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
from sqlalchemy import String, type_coerce
from sqlalchemy.sql import ColumnElement


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


def raw_time(col) -> ColumnElement:
    """A time column as the driver gives it (SQLite: text), to be parsed by `times` all at
    once: a million values converted one by one in Python cost seconds."""
    return type_coerce(col, String)


def times(values) -> pd.Series:
    """raw_time values (text or datetimes, None for none) as aware UTC times."""
    return pd.to_datetime(values, utc=True, format="ISO8601")
