"""Notification tables: each user's channels, single-use links, the delivery log,
reminders sent, alert subscriptions and the alert queue.

Channel URLs hold secrets (tokens, passwords): they are stored as given, because Apprise
needs them to send, and shown only masked (restore.notify.channels.mask). A link's token
is stored only as its SHA-256.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from restore.store import UTCDateTime, metadata

user_channels = Table(
    "notify_channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("masked", String(300), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("added_by", String(80), nullable=False),
    Index("ix_notify_channels_user", "user_id"),
)

links = Table(
    "notify_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("purpose", String(10), nullable=False),  # invite | reset | checkin
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("branch_id", ForeignKey("branches.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),  # a newer link of the same purpose replaced it
    Column("created_by", String(80), nullable=False),
)

delivery_log = Table(
    "notify_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("username", String(80), nullable=False),
    Column("channel", String(300), nullable=False),  # masked
    Column("purpose", String(20), nullable=False),  # invite | reset | reminder | alert | test
    Column("branch", String(60)),  # slug, when about one branch
    Column("outcome", String(12), nullable=False),  # delivered | failed
    Column("detail", Text, nullable=False, default=""),  # masked
    Index("ix_notify_log_at", "at"),
)

reminders = Table(
    "notify_reminders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("link_id", ForeignKey("notify_links.id")),
    Column("outcome", String(20), nullable=False),  # delivered | failed | no channel
    Column("sent_by", String(80), nullable=False),
    Index("ix_notify_reminders_branch", "branch_id", "at"),
)

subscriptions = Table(
    "notify_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("kind", String(12), nullable=False),  # all | restored | lost | overdue
    Column("branch_id", ForeignKey("branches.id")),  # None: every branch
)

alert_queue = Table(
    "notify_alert_queue",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("key", String(120), nullable=False),  # one alert per user per event or overdue date
    Column("kind", String(12), nullable=False),
    Column("branch", String(60), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),  # when the change was recorded
    Column("sent_at", UTCDateTime),
    Column("outcome", String(12)),
    UniqueConstraint("user_id", "key"),
    Index("ix_notify_queue_pending", "sent_at", "created_at"),
)
