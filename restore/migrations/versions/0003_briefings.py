"""Published briefings, immutable once written.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from restore.store import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MESSAGE = "published briefings are immutable"


def upgrade() -> None:
    op.create_table(
        "briefings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("published_at", UTCDateTime, nullable=False),
        sa.Column("as_of", UTCDateTime, nullable=False),
        sa.Column("markdown", sa.Text, nullable=False),
        sa.Column("figures", sa.Text, nullable=False),
        sa.Column("progress_png", sa.LargeBinary),
        sa.Column("grid_png", sa.LargeBinary),
    )
    if op.get_context().dialect.name == "sqlite":
        for when in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER briefings_no_{when.lower()} BEFORE {when} ON briefings "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION briefings_immutable() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER briefings_immutable BEFORE UPDATE OR DELETE ON briefings "
            "FOR EACH ROW EXECUTE FUNCTION briefings_immutable()"
        )


def downgrade() -> None:
    op.drop_table("briefings")
    if op.get_context().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS briefings_immutable()")
