"""Times are stored in UTC and shown in Europe/London; this module converts both ways."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class TimeFormatError(ValueError):
    """Text that is not a time or date we understand."""


def parse_time(text: str) -> datetime:
    """ISO 8601 time -> aware UTC. A time without an offset is London local time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimeFormatError(
            f"{text!r} is not a time: use ISO 8601, e.g. 2026-03-21T09:30 or 2026-03-21T09:30+00:00"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 falls before year 1 in UTC
        raise TimeFormatError(f"{text!r} is outside the range of times Restore can keep") from None


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise TimeFormatError(f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2026-04-30") from None


def london_date(value: datetime) -> date:
    return value.astimezone(LONDON).date()


def show(value: datetime | None) -> str:
    """A time as people in the association read it: London local, to the minute."""
    return "" if value is None else value.astimezone(LONDON).strftime("%d %b %Y %H:%M")


def iso(value: datetime | None) -> str:
    """A time for machines: ISO 8601 in UTC."""
    return "" if value is None else value.astimezone(UTC).isoformat()
