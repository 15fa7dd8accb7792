"""`python -m restore audit verify|export`, `backup --output FILE` and `restore FILE`.

cli.build_parser registers them with `register(sub, add)`. Like every command, each
returns a message; a user error raises RestoreError (printed as `error: ...`, exit 2).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from restore import audit
from restore.audit.backup import describe
from restore.store import Store, database_url


def cmd_verify(args) -> str:
    from restore.cli import _store

    result = audit.verify(_store())
    if not result.ok:
        raise audit.AuditChainBroken(result.message())
    return f"{result.message()}\nnewest hash: {result.head}"


def cmd_export(args) -> str | None:
    from restore.cli import _store

    data = audit.to_csv(_store())
    if args.output:
        Path(args.output).write_text(data, encoding="utf-8")
        return f"wrote {args.output}"
    sys.stdout.write(data)
    return None


def cmd_backup(args) -> str:
    from restore.cli import _store
    from restore.directory import SYSTEM

    counts = audit.backup(_store(), SYSTEM, args.output)
    return f"wrote {args.output}: {describe(counts)}"


def cmd_restore(args) -> str:
    from restore.directory import SYSTEM

    store = Store(database_url())  # no schema yet is fine: restore creates it
    counts = audit.restore(store, SYSTEM, args.file)
    return f"restored {args.file}: {describe(counts)}\n{audit.verify(store).message()}"


def register(sub, add: Callable) -> None:
    """Add the commands to cli.build_parser's subparsers, using its `add` helper."""
    group = sub.add_parser(
        "audit", help="check or export the audit log", description="check or export the audit log"
    )
    group_sub = group.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    add("verify", cmd_verify, "recompute the audit log's hash chain", group_sub)
    exp = add("export", cmd_export, "write the whole audit log as CSV (for a regulator)", group_sub)
    exp.add_argument("--output", help="file to write (default: stdout)")
    bk = add("backup", cmd_backup, "write the whole database to one file (JSON; .gz compresses)")
    bk.add_argument(
        "--output", required=True, help="the backup file, e.g. restore-2026-11-27.json.gz"
    )
    rs = add("restore", cmd_restore, "load a backup into an empty database (creates the schema)")
    rs.add_argument("file", help="a file written by `backup`")
