"""The audit log (append-only, hash-chained) and sign-in tickets bound to the browser.

Every session open before this revision is revoked: until now an unexchanged sign-in
ticket was itself a session row, usable as a cookie.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from restore.store import EventId, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MESSAGE = "the audit log is append-only"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", EventId, primary_key=True, autoincrement=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "sign_in_tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("nonce_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
    )
    sessions = sa.table("sessions", sa.column("revoked_at", UTCDateTime))
    op.execute(
        sessions.update()
        .where(sessions.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    if op.get_context().dialect.name == "sqlite":
        for when in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{when.lower()} BEFORE {when} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    op.drop_table("sign_in_tickets")
    op.drop_table("audit_log")
    if op.get_context().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
