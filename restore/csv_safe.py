"""One escaping rule for every CSV Restore writes for people: a text cell that a spreadsheet
would run as a formula (starting =, +, -, @, tab or carriage return) gets a leading apostrophe.

Empty cells and numbers are left alone. Machine round trips use the raw text instead
(`export --raw`, backups), since the apostrophe is then part of the value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """The value as a spreadsheet should show it: text, never a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.map(cell)


def frame_to_csv(df: pd.DataFrame) -> str:
    """A DataFrame as spreadsheet-safe CSV text (no index)."""
    return frame(df).to_csv(index=False)


def rows_to_csv(rows: Iterable[dict], columns: list[str], *, raw: bool = False) -> str:
    """Dict rows as CSV text; spreadsheet-safe unless `raw`."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row if raw else {k: cell(v) for k, v in row.items()})
    return buf.getvalue()
