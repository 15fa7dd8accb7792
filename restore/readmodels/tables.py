"""The read-model tables: small summaries of the event log, kept in each write's transaction.

Every row here can be rebuilt from `events` (restore.readmodels.rebuild); none is a record.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table

from restore.store import EventId, UTCDateTime, metadata

NO_INCIDENT = 0  # incident key of an event without one (a key column cannot be NULL)

# Net change in the number of systems per London day, system type, region, incident and
# state: a day's count is the running sum. Deltas, not counts, so that a backdated event
# changes one row, not every later day's.
state_days = Table(
    "rm_state_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("system_id", Integer, primary_key=True),
    Column("region", String(60), primary_key=True),
    Column("incident_id", Integer, primary_key=True),
    Column("state", String(20), primary_key=True),
    Column("n", Integer, nullable=False),
)

# Each stretch a branch system spent in one state under one incident: starts only, the
# stretch ends where the system's next one starts.
state_spans = Table(
    "rm_state_spans",
    metadata,
    Column("event_id", EventId, primary_key=True, autoincrement=False),
    Column("bs_id", ForeignKey("branch_systems.id"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("state", String(20), nullable=False),
    Column("incident_id", Integer, nullable=False),
    Column("prev_state", String(20)),
    Column("prev_incident_id", Integer),
    Index("ix_rm_spans_bs", "bs_id", "started_at"),
    Index("ix_rm_spans_started", "started_at"),
)

# Each outage episode: left service, came back (NULL while still out).
outages = Table(
    "rm_outages",
    metadata,
    Column("bs_id", ForeignKey("branch_systems.id"), primary_key=True),
    Column("down_at", UTCDateTime, primary_key=True),
    Column("restored_at", UTCDateTime),
)

# Each move of an expected restoration date.
eta_moves = Table(
    "rm_eta_moves",
    metadata,
    Column("event_id", EventId, primary_key=True, autoincrement=False),
    Column("bs_id", ForeignKey("branch_systems.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("from_eta", Date, nullable=False),
    Column("to_eta", Date, nullable=False),
)

# Each branch system's board pointers at the end of every London day it had an event:
# the board as of T is the newest row before T's day plus that day's events.
board_days = Table(
    "rm_board_days",
    metadata,
    Column("bs_id", ForeignKey("branch_systems.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("event_id", EventId, nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("note_event_id", EventId),
)

# Which branch systems each incident touched (for the incident filter).
incident_systems = Table(
    "rm_incident_systems",
    metadata,
    Column("incident_id", Integer, primary_key=True),
    Column("bs_id", Integer, primary_key=True),
)

# Write counters per topic and region, so a cached read is invalidated only by the writes
# that change it (restore.readmodels.versions).
read_versions = Table(
    "rm_versions",
    metadata,
    Column("topic", String(20), primary_key=True),
    Column("region", String(60), primary_key=True),
    Column("n", Integer, nullable=False),
)

MODEL_TABLES = (state_days, state_spans, outages, eta_moves, board_days, incident_systems)
