"""Who HQ IT should chase, in words: quiet or never-reported branches with their chairs'
phone numbers, overdue expected dates, and systems waiting for HQ IT's checks."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from restore import queries
from restore.timefmt import show


def _when(t) -> str:
    return show(t) if pd.notna(t) else ""


def stale_rows(board: pd.DataFrame, contacts: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Stale and never-reported branches, with how to ring the chair."""
    stale = queries.stale(board, now)
    reach = dict(zip(contacts["slug"], contacts["contact"], strict=True))

    def quiet(r) -> str:
        if pd.isna(r.last_update):
            return "Never reported"
        text = f"{r.hours_quiet:.0f} hours"
        return f"{text}; {r.never_reported} system(s) never reported" if r.never_reported else text

    return pd.DataFrame(
        {
            "Branch": stale["branch"].to_list(),
            "slug": stale["slug"].to_list(),
            "Region": stale["region"].to_list(),
            "Quiet for": [quiet(r) for r in stale.itertuples()],
            "Last update": [_when(t) for t in stale["last_update"]],
            "Systems not in service": stale["not_in_service"].to_list(),
            "Last reported by": stale["last_by"].to_list(),
            "Chair": [reach.get(s, "no chair on record") for s in stale["slug"]],
        }
    )


def overdue_rows(board: pd.DataFrame, now: datetime) -> pd.DataFrame:
    over = queries.overdue(board, now)
    return pd.DataFrame(
        {
            "Branch": over["branch"].to_list(),
            "slug": over["slug"].to_list(),
            "system": over["system"].to_list(),
            "System": over["system_name"].to_list(),
            "State": over["label"].to_list(),
            "Expected": [f"{d:%d %b %Y}" if isinstance(d, date) else "" for d in over["eta"]],
            "Days overdue": over["days_overdue"].to_list(),
            "Last reported by": over["updated_by"].to_list(),
            "Last note": over["note"].to_list(),
        }
    )


def waiting_rows(board: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Systems a branch says are back up, waiting longest first for HQ IT's checks."""
    waiting = board[board["state"] == "verifying"].sort_values("since")
    days = (pd.Timestamp(now) - waiting["since"]).dt.total_seconds() / 86400
    return pd.DataFrame(
        {
            "Branch": waiting["branch"].to_list(),
            "slug": waiting["slug"].to_list(),
            "system": waiting["system"].to_list(),
            "System": waiting["system_name"].to_list(),
            "Waiting since": [_when(t) for t in waiting["since"]],
            "Days waiting": days.round(1).to_list(),
            "Reported by": waiting["updated_by"].to_list(),
            "Last note": waiting["note"].to_list(),
            "event_id": waiting["event_id"].astype("int64").to_list(),
        }
    )
