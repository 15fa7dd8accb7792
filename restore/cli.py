"""`python -m restore ...`: a thin command line over the core.

User errors print one line, `error: ...`, on stderr and exit 2; never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import DBAPIError, OperationalError

from restore import briefing_files, briefing_pdf, csv_safe, publishing, queries, schema, sites
from restore.audit import cli as audit_cli
from restore.demo import default_start, seed_demo
from restore.directory import SYSTEM, actor_for, add_user, seed_reference
from restore.domain import STATE_IDS, RestoreError
from restore.notify import cli as notify_cli
from restore.readmodels import cli as readmodels_cli
from restore.records import record_status
from restore.recovery import blocked_by
from restore.recovery import cli as recovery_cli
from restore.store import Store, database_url, now_utc
from restore.timefmt import TimeFormatError, iso, parse_date, parse_time, show
from restore.transfer import export_rows, import_csv, to_csv, to_json

BOARD_FIELDS = [
    "branch",
    "region",
    "system",
    "state",
    "label",
    "since",
    "eta",
    "note",
    "updated_by",
    "at",
]


class CliError(Exception):
    """A problem with how the command was used."""


def _store() -> Store:
    store = Store(database_url())
    if not schema.is_current(store):
        raise CliError("the database schema is missing or old; run `python -m restore init` first")
    return store


def cmd_init(args) -> str:
    return f"schema at revision {schema.upgrade(Store(database_url()))} ({database_url()})"


def cmd_seed(args) -> str:
    store = _store()
    if args.branches or args.systems:
        return _seed_own(store, args)
    added_b, added_s = seed_reference(store)
    msg = f"reference data: {added_b} branches and {added_s} systems added"
    if args.demo and args.if_empty and store.has_events():
        return msg + "; the database already holds events, so no demo was added"
    if args.demo:
        start = parse_date(args.start) if args.start else default_start()
        count = seed_demo(store, start=start, force=args.force)
        msg += f"; demo story from {start}: {count} events"
    return msg


def _seed_own(store: Store, args) -> str:
    """An organisation's own site and system lists, added or updated by slug and key."""
    files = {}
    for name in ("branches", "systems"):
        path = getattr(args, name)
        if path and not Path(path).is_file():
            raise CliError(f"no such file: {path}")
        files[name] = Path(path).read_bytes() if path else None
    done = sites.load(store, SYSTEM, branch_csv=files["branches"], system_csv=files["systems"])
    return (
        f"branches: {done.branches_added} added, {done.branches_updated} updated; "
        f"systems: {done.systems_added} added, {done.systems_updated} updated"
    )


def _password(args) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise CliError("the two passwords differ")
        return first
    return None


def cmd_user_add(args) -> str:
    store = _store()
    urls = notify_cli.check_urls(args.notify)  # checked first: a bad URL writes nothing
    password = _password(args)
    add_user(
        store,
        SYSTEM,
        username=args.name,
        role=args.role,
        branch=args.branch,
        display_name=args.display_name,
        password=password,
    )
    channels = notify_cli.add_user_channels(store, args.name, urls)
    return (
        f"user {args.name} added ({args.role})"
        + ("" if password else "; no password set")
        + channels
    )


def cmd_status_set(args) -> str:
    store = _store()
    event_id = record_status(
        store,
        actor_for(store, args.as_user),
        branch=args.branch,
        system=args.system,
        state=args.state,
        note=args.note or "",
        eta=parse_date(args.eta) if args.eta else None,
        at=parse_time(args.at) if args.at else None,
        reason=args.reason,
        source="phone" if args.phone else "cli",
        incident=args.incident,
    )
    return f"recorded event {event_id}: {args.branch} {args.system} -> {args.state}"


def cmd_import(args) -> str:
    store = _store()
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    # The path, not its bytes: import_csv streams the file, however large.
    count = import_csv(store, actor_for(store, args.as_user), path, dry_run=args.dry_run)
    return f"{'checked' if args.dry_run else 'imported'} {count} rows from {path}"


def _emit(text: str, output: str | None) -> str | None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        return f"wrote {output}"
    sys.stdout.write(text)
    return None


def cmd_export(args) -> str | None:
    rows = export_rows(_store(), SYSTEM)
    text = to_json(rows) if args.format == "json" else to_csv(rows, raw=args.raw)
    return _emit(text, args.output)


def board_records(df: pd.DataFrame) -> list[dict]:
    out = df[BOARD_FIELDS].copy()
    for col in ("since", "at"):
        out[col] = [iso(t) if pd.notna(t) else "" for t in out[col]]
    out["eta"] = [d.isoformat() if pd.notna(d) else "" for d in out["eta"]]
    out["state"] = out["state"].fillna("")
    return out.to_dict(orient="records")


def cmd_board(args) -> str | None:
    store = _store()
    df = queries.board_as_of(store, parse_time(args.as_of)) if args.as_of else queries.board(store)
    rows = board_records(df)
    if args.format == "json":
        blocked = blocked_by(store, df)  # "branch:system" keys it waits on, out of service
        for row, slug, system in zip(rows, df["slug"], df["system"], strict=True):
            row["blocked_by"] = blocked.get(f"{slug}:{system}", [])
        return _emit(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", args.output)
    frame = pd.DataFrame(rows, columns=BOARD_FIELDS)
    if args.format == "csv":
        return _emit(csv_safe.frame_to_csv(frame), args.output)
    shown = df[["branch", "system", "state", "since", "eta", "updated_by", "note"]].copy()
    shown["since"] = [show(t) if pd.notna(t) else "" for t in shown["since"]]
    shown["eta"] = shown["eta"].fillna("")
    shown["state"] = shown["state"].fillna("(no report)")
    shown["note"] = shown["note"].str.slice(0, 40).str.replace("\n", " ")
    return _emit(shown.to_string(index=False) + "\n", args.output)


def cmd_briefing(args) -> str:
    store = _store()
    as_of = parse_time(args.as_of) if args.as_of else None
    if args.publish:
        if not (args.as_user and args.title):
            raise CliError("--publish needs --as USER and --title T")
        actor = actor_for(store, args.as_user)
        moment = as_of or now_utc()
        images = briefing_pdf.pictures(publishing.inputs(store, moment), moment)
        new_id = publishing.publish(
            store, actor, title=args.title, note=args.note or "", as_of=moment, images=images
        )
        return f"published briefing {new_id}: {args.title}"
    if not args.output:
        raise CliError("give --output FILE (or --publish)")
    if args.id:
        data = briefing_files.published_file(store, args.id, args.format)
    else:
        data = briefing_files.draft_file(store, as_of or now_utc(), args.format)
    Path(args.output).write_bytes(data)
    return f"wrote {args.output}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m restore",
        description="Restore: record and report branch systems' outage and recovery. "
        "The database is RESTORE_DATABASE_URL (default: SQLite data/restore.db).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable, help_: str, parent=sub) -> argparse.ArgumentParser:
        cmd = parent.add_parser(name, help=help_, description=help_)
        cmd.set_defaults(func=func)
        return cmd

    add("init", cmd_init, "create or upgrade the schema (safe to run again)")
    seed = add("seed", cmd_seed, "load the reference branches and systems (safe to run again)")
    seed.add_argument("--demo", action="store_true", help="also load demo users and the demo story")
    seed.add_argument("--start", help="day 0 of the demo story (default: eight weeks ago)")
    seed.add_argument("--force", action="store_true", help="add the demo even if events exist")
    seed.add_argument(
        "--if-empty", action="store_true", help="skip the demo quietly if events exist"
    )
    seed.add_argument(
        "--branches",
        metavar="FILE.csv",
        help="your own sites instead of the demo's police forces: name,slug,region[,area][,is_hq]"
        " (added or updated by slug; every row checked first)",
    )
    seed.add_argument("--systems", metavar="FILE.csv", help="your own systems: key,name")

    user = sub.add_parser("user", help="manage users", description="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    ua = add("add", cmd_user_add, "add a user", user_sub)
    ua.add_argument("name", help="username (lower case)")
    ua.add_argument("--role", required=True, choices=["hq-it", "chair", "leadership"])
    ua.add_argument("--branch", help="the chair's branch (name or slug)")
    ua.add_argument("--display-name", help="name shown in the log (default: the username)")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    ua.add_argument(
        "--notify",
        action="append",
        metavar="URL",
        help="an Apprise URL to send invitations, reminders and alerts to (repeatable)",
    )

    status = sub.add_parser("status", help="record status", description="record status")
    status_sub = status.add_subparsers(dest="status_command", required=True, metavar="COMMAND")
    ss = add("set", cmd_status_set, "record one branch system's status", status_sub)
    ss.add_argument("--as", dest="as_user", required=True, help="acting username")
    ss.add_argument("--branch", required=True, help="branch name or slug")
    ss.add_argument("--system", required=True, help="system key, e.g. website, hub, email")
    ss.add_argument("--state", required=True, help=f"one of: {', '.join(STATE_IDS)}")
    ss.add_argument("--note", help="note (at most 2,000 characters)")
    ss.add_argument("--eta", help="expected restoration date, YYYY-MM-DD")
    ss.add_argument("--at", help="effective time, ISO 8601 (default now; no offset = London)")
    ss.add_argument("--reason", help="HQ IT: reason for overriding the transition rules")
    ss.add_argument("--phone", action="store_true", help="HQ IT: recorded after a phone call")
    ss.add_argument(
        "--incident",
        help="the incident a new outage belongs to (needed when more than one is open; "
        "default: the system's current outage's incident)",
    )

    imp = add("import", cmd_import, "import status rows from CSV (all rows or none)")
    imp.add_argument("file", help="CSV with columns branch,system,state,at,note,eta")
    imp.add_argument("--as", dest="as_user", required=True, help="acting username (HQ IT)")
    imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    exp = add("export", cmd_export, "export the whole event log")
    exp.add_argument("--format", choices=["csv", "json"], default="csv")
    exp.add_argument("--output", help="file to write (default: stdout)")
    exp.add_argument(
        "--raw",
        action="store_true",
        help="CSV: exact text, for machine round trips (default: cells a spreadsheet would run "
        "as formulas get a leading apostrophe)",
    )

    brd = add("board", cmd_board, "show every branch system's current (or past) status")
    brd.add_argument("--as-of", help="replay the board as it stood at this time")
    brd.add_argument("--format", choices=["table", "csv", "json"], default="table")
    brd.add_argument("--output", help="file to write (default: stdout)")
    bf = add(
        "briefing", cmd_briefing, "write a leadership briefing (Markdown or PDF), or publish one"
    )
    bf.add_argument("--as-of", help="the moment the briefing describes (default now)")
    bf.add_argument("--format", choices=["md", "pdf"], default="md")
    bf.add_argument("--output", help="file to write")
    bf.add_argument("--id", type=int, help="write the published briefing with this id instead")
    bf.add_argument("--publish", action="store_true", help="store it for good (HQ IT, leadership)")
    bf.add_argument("--as", dest="as_user", help="acting username, with --publish")
    bf.add_argument("--title", help="title, with --publish")
    bf.add_argument("--note", help="covering note, with --publish")
    audit_cli.register(sub, add)  # audit verify/export, backup, restore
    readmodels_cli.register(sub, add)  # rebuild-read-models
    recovery_cli.register(sub, add)  # checklist, depends, clock, incident
    notify_cli.register(sub, add)  # user invite/reset/notify, remind, alerts, deliveries
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        message = args.func(args)
    except (RestoreError, CliError, TimeFormatError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OperationalError as e:
        print(f"error: cannot use the database {database_url()}: {e.orig}", file=sys.stderr)
        return 2
    except DBAPIError as e:  # refused by the database itself: nothing was written
        first = str(e.orig).splitlines()[0] if e.orig else type(e).__name__
        print(f"error: the database refused the change, nothing was written: {first}",
              file=sys.stderr)  # fmt: skip
        return 2
    if message:
        print(message, file=sys.stderr if args.command in ("export", "board") else sys.stdout)
    return 0
