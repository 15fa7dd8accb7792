"""The event log is append-only in the database too; the data revision row always exists.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MESSAGE = "the event log is append-only: record a correction as a new event"


def upgrade() -> None:
    # Present from the start, so concurrent first writers only ever UPDATE it.
    op.execute(
        "INSERT INTO settings (key, value) SELECT 'revision', '0' "
        "WHERE NOT EXISTS (SELECT 1 FROM settings WHERE key = 'revision')"
    )
    if op.get_context().dialect.name == "sqlite":
        for when in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{when.lower()} BEFORE {when} ON events "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP FUNCTION IF EXISTS events_append_only()")
