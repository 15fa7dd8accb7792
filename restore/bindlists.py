"""`column IN (a list)` bound as one parameter, for the statements every write runs.

An expanding IN renders one placeholder per item, so each list length is a new statement:
psycopg parses it afresh (it caches only statements of at most 50 parameters) and the
server plans it afresh. On PostgreSQL the list goes as one array (`= ANY`), so the text
never changes: converted once, prepared by the server after a few runs (once per array type
psycopg sends: small ids go as int2[], larger as int4[]). SQLite keeps the expanding IN (it
has no arrays; its statements are cheap to compile in process).
"""

from __future__ import annotations

from sqlalchemy import ARRAY, any_, bindparam
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine


def one_of(
    column: ColumnElement, name: str, dialect: str, item: TypeEngine | None = None
) -> ColumnElement[bool]:
    """`column IN (:name)` for a list bound as `name` (see the module's docstring); `item`
    is the items' type where the column's is unknown (an SQL function's result)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(item or column.type)))
    return column.in_(bindparam(name, expanding=True))
