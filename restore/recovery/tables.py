"""The recovery tables: checklists and their ticks with evidence, dependencies, clocks and
the closing of an incident (migration 0010).

Ticks, evidence files and clock events are append-only records; checklist items and
dependencies are HQ IT's configuration (every change audited); a closing row is frozen
once leadership confirms it.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from restore.store import UTCDateTime, metadata

BS = "branch_systems.id"

# The checklist: one row per item; `applies_to` is "" (every system type) or system keys
# separated by commas. A retired item no longer gates anything; its ticks stay.
checklist_items = Table(
    "recovery_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(40), nullable=False, unique=True),
    Column("title", String(300), nullable=False),
    Column("gate", String(10), nullable=False),  # verifying | restored
    Column("applies_to", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    Column("retired", Boolean, nullable=False, default=False),
)

# Each tick of an item on a branch system: who, when, a note. Append-only.
ticks = Table(
    "recovery_ticks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_system_id", ForeignKey(BS), nullable=False),
    Column("item_key", String(40), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Index("ix_recovery_ticks_bs", "branch_system_id", "item_key"),
)

# An evidence file attached to a tick, kept in the database with its SHA-256 (hex).
evidence = Table(
    "recovery_evidence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tick_id", ForeignKey("recovery_ticks.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(10), nullable=False),  # pdf | png | text
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_recovery_evidence_tick", "tick_id"),
)

# "branch_system_id waits on on_id": declared by HQ IT.
dependencies = Table(
    "recovery_depends",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_system_id", ForeignKey(BS), nullable=False),
    Column("on_id", ForeignKey(BS), nullable=False),
    Column("added_by", String(80), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    UniqueConstraint("branch_system_id", "on_id"),
)

# A regulatory or contractual clock of an incident: due `due_hours` after `started_at`.
clocks = Table(
    "recovery_clocks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("due_hours", Integer, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# A notification made (the clock met): append-only, the first one counts.
clock_events = Table(
    "recovery_clock_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("clock_id", ForeignKey("recovery_clocks.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("note", Text, nullable=False, default=""),
)

# Per incident: the re-infection window, and the closing (proposed, then confirmed; frozen
# with its report and figures once confirmed).
closings = Table(
    "recovery_closings",
    metadata,
    Column("incident_id", ForeignKey("incidents.id"), primary_key=True, autoincrement=False),
    Column("reinfection_days", Integer, nullable=False, default=14),
    Column("proposed_by", String(80)),
    Column("proposed_at", UTCDateTime),
    Column("lessons", Text, nullable=False, default=""),
    Column("actions", Text, nullable=False, default="[]"),  # JSON [{"action", "owner"}]
    Column("confirmed_by", String(80)),
    Column("confirmed_at", UTCDateTime),
    Column("report_md", Text),
    Column("report_pdf", LargeBinary),
    Column("figures", Text),  # JSON: the frozen figures of the final report
)

ALL = (checklist_items, ticks, evidence, dependencies, clocks, clock_events, closings)
