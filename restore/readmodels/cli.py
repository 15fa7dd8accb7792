"""`python -m restore rebuild-read-models`: replay the log into the read models."""

from __future__ import annotations

from collections.abc import Callable

from restore.readmodels.rebuild import rebuild


def cmd_rebuild(args) -> str:
    from restore.cli import _store

    counts = rebuild(_store())
    rows = ", ".join(
        f"{name.removeprefix('rm_')} {n}" for name, n in counts.items() if name != "events"
    )
    return f"read models rebuilt from {counts['events']} events: {rows}"


def register(sub, add: Callable) -> None:
    """Add the command to cli.build_parser's subparsers, using its `add` helper."""
    add(
        "rebuild-read-models",
        cmd_rebuild,
        "rebuild the summary tables behind the board and charts from the event log "
        "(safe at any time; one transaction)",
    )
