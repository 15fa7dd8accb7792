"""What a branch's page shows and offers: its rows in words, the states a user may pick,
and which systems "Nothing has changed" checks in. Pure pandas over board frames."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from restore.access import Action, Actor, can
from restore.domain import Band, band_of, legal_next_states, needs_hq, next_step
from restore.timefmt import show


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _day(value) -> str:
    return f"{value:%d %b %Y}" if isinstance(value, date) else ""


def check_in_candidates(rows: pd.DataFrame) -> pd.DataFrame:
    """Systems a check-in covers: reported, and not in service."""
    return rows[rows["state"].notna() & (rows["band"] != Band.IN.value)]


def status_rows(rows: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """One row per system in words: state, since, expected date (overdue said), last note."""
    today = pd.Timestamp(now).tz_convert("Europe/London").date()

    def expected(r) -> str:
        day = _day(r.eta)
        late = isinstance(r.eta, date) and r.eta < today and r.band != Band.IN.value
        return f"{day} (overdue)" if late else day

    def last_note(r) -> str:
        note = _text(r.note)
        if note and pd.notna(r.note_at) and r.note_at != r.at:
            return f"{note} ({show(r.note_at)})"
        return note

    return pd.DataFrame(
        {
            "System": rows["system_name"].to_list(),
            "State": rows["label"].to_list(),
            "Since": [show(t) if pd.notna(t) else "" for t in rows["since"]],
            "Expected": [expected(r) for r in rows.itertuples()],
            "Last note": [last_note(r) for r in rows.itertuples()],
            "By": rows["updated_by"].to_list(),
            "Public workaround": rows["workaround"].to_list(),
            "What happens next": [
                next_step(s if isinstance(s, str) else None) for s in rows["state"]
            ],
        }
    )


def choices(actor: Actor, current: str | None) -> list[str]:
    """Legal next states this user may record (HQ-only moves left out for others)."""
    hq = can(actor, Action.OVERRIDE)
    return [s for s in legal_next_states(current) if hq or not needs_hq(current, s)]


def may_start_episode(current: str | None) -> bool:
    """True when the next report could start a new outage (so its incident must be said)."""
    return current is None or band_of(current) is Band.IN


def open_incident_names(incidents: pd.DataFrame, now: datetime) -> list[str]:
    moment = pd.Timestamp(now)
    closed = incidents["closed_at"].notna() & (incidents["closed_at"] <= moment)
    return list(incidents[(incidents["started_at"] <= moment) & ~closed]["name"])


def history_rows(history: pd.DataFrame) -> pd.DataFrame:
    """A branch's log in words, newest first."""
    return pd.DataFrame(
        {
            "When": [show(t) for t in history["at"]],
            "System": history["system"].to_list(),
            "State": history["state"].to_list(),
            "Note": history["note"].to_list(),
            "Expected": [_day(d) for d in history["eta"]],
            "By": history["by"].to_list(),
            "How": history["source"].to_list(),
            "Incident": history["incident"].fillna("").to_list(),
            "Override reason": history["reason"].fillna("").to_list(),
        }
    )
