"""Notifications: Apprise channels per user, invitations and password resets by link,
reminders with a one-tap check-in link, and alerts on changes.

Other code calls only the names below. `after_commit` is the hook restore.records calls
after every status write commits; it never raises and never waits for a channel. The
rest is imported on first use, so a status write does not load Apprise.
"""

from __future__ import annotations

import logging
from importlib import import_module

log = logging.getLogger("restore.notify")

_EXPORTS = {
    "mask": "channels",
    "add_channel": "channels",
    "remove_channel": "channels",
    "channel_list": "channels",
    "check_url": "channels",
    "NoBaseUrl": "links",
    "LinkRefused": "links",
    "invite": "invitations",
    "link_view": "invitations",
    "has_password": "invitations",
    "choose_password": "invitations",
    "remind": "reminders",
    "last_chased": "reminders",
    "chased_words": "reminders",
    "chase_rows": "reminders",
    "checkin_view": "reminders",
    "check_in_by_link": "reminders",
    "KINDS": "alerts",
    "subscribe": "alerts",
    "subscription_frame": "alerts",
    "queue_overdue": "alerts",
    "send_due": "alerts",
    "delivery_frame": "delivery",
}


def after_commit(store, event_ids) -> None:
    """Queue alerts for events just committed and wake the background sender.

    Never raises into the writer: any failure is logged, and the write stands.
    """
    try:
        from restore.notify import alerts

        if alerts.queue_events(store, list(event_ids or ())):
            alerts.kick(store)
    except Exception:
        log.exception("could not queue alerts for events %s; the write itself stands", event_ids)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'restore.notify' has no attribute {name!r}")
    return getattr(import_module(f"restore.notify.{module}"), name)


__all__ = ["after_commit", *_EXPORTS]
