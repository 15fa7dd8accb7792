"""`python -m restore checklist|depends|clock|incident ...`: recovery on the command line.

cli.build_parser registers them with `register(sub, add)`. Each command returns a message
(or writes to stdout); a user error raises RestoreError, printed as `error: ...` (exit 2).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from restore import recovery
from restore.directory import actor_for, add_incident
from restore.records import ValidationError
from restore.recovery import checklists, closing, depends
from restore.timefmt import parse_date, parse_time, show


def _store():
    from restore.cli import _store as store

    return store()


def _out(text: str, output: str | None = None) -> str | None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        return f"wrote {output}"
    sys.stdout.write(text)
    return None


def _table(rows: list[list[str]], header: list[str]) -> str:
    cells = [header, *rows]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines) + "\n"


# --- checklist ------------------------------------------------------------------------


def cmd_checklist_show(args) -> str | None:
    found = recovery.checklist(_store(), branch=args.branch, system=args.system)
    if args.format == "json":
        for item in found:  # the documented shape: files by name and sha256
            for t in item["ticks"]:
                t["files"] = [{"name": f["name"], "sha256": f["sha256"]} for f in t["files"]]
        return _out(json.dumps(found, ensure_ascii=False, indent=1) + "\n")
    if not found:
        return _out("no checklist for this system type\n")
    rows = []
    for i in found:
        last = i["ticks"][-1] if i["ticks"] else None
        by = f"{last['who']} {show_iso(last['when'])}" if last else ""
        files = sum(len(t["files"]) for t in i["ticks"])
        rows.append(
            ["x" if i["done"] else " ", i["key"], i["gate"], by, str(files or ""), i["title"]]
        )
    return _out(_table(rows, ["done", "item", "gate", "last tick", "files", "title"]))


def show_iso(text: str) -> str:
    from datetime import datetime

    return show(datetime.fromisoformat(text))


def cmd_checklist_tick(args) -> str:
    store = _store()
    name = data = None
    if args.evidence:
        path = Path(args.evidence)
        if not path.is_file():
            raise ValidationError(f"no such file: {path}")
        if path.stat().st_size > recovery.MAX_BYTES:
            raise ValidationError(f"evidence file {path.name!r} is over the 10 MB limit")
        name, data = path.name, path.read_bytes()
    tick_id = recovery.tick(
        store,
        actor_for(store, args.as_user),
        branch=args.branch,
        system=args.system,
        item=args.item,
        note=args.note or "",
        file_name=name,
        file_data=data,
    )
    return f"ticked {args.item} on {args.branch} {args.system} (tick {tick_id})"


def cmd_checklist_defaults(args) -> str:
    store = _store()
    path = Path(args.file) if args.file else checklists.DEFAULT_FILE
    added = recovery.load_default_checklist(store, actor_for(store, args.as_user), path)
    return f"checklist: {added} items added from {path.name}"


def cmd_checklist_evidence(args) -> str:
    store = _store()
    name, _kind, data, sha = recovery.evidence_file(store, actor_for(store, args.as_user), args.id)
    Path(args.output).write_bytes(data)
    return f"wrote {args.output} ({name}, sha256 {sha})"


# --- depends --------------------------------------------------------------------------


def cmd_depends_add(args) -> str:
    store = _store()
    done = recovery.add_dependency(
        store, actor_for(store, args.as_user), branch=args.branch, system=args.system, on=args.on
    )
    what = f"{args.branch}:{args.system} depends on {args.on}"
    return what if done else f"{what} (already declared)"


def cmd_depends_remove(args) -> str:
    store = _store()
    recovery.remove_dependency(
        store, actor_for(store, args.as_user), branch=args.branch, system=args.system, on=args.on
    )
    return f"removed: {args.branch}:{args.system} no longer depends on {args.on}"


def cmd_depends_list(args) -> str | None:
    store = _store()
    found = recovery.dependencies(store)
    blocked = recovery.blocked_by(store)
    for d in found:
        d["blocked_by"] = blocked.get(d["system"], [])
    if args.format == "json":
        return _out(json.dumps(found, ensure_ascii=False, indent=1) + "\n")
    rows = [[d["system"], d["on"], ", ".join(d["blocked_by"])] for d in found]
    return _out(_table(rows, ["system", "depends on", "blocked by now"]))


def cmd_depends_defaults(args) -> str:
    store = _store()
    path = Path(args.file) if args.file else depends.DEFAULT_FILE
    added = recovery.load_default_dependencies(store, actor_for(store, args.as_user), path)
    return f"dependencies: {added} added from {path.name}"


# --- clocks ---------------------------------------------------------------------------


def cmd_clock_add(args) -> str:
    store = _store()
    new_id = recovery.add_clock(
        store,
        actor_for(store, args.as_user),
        incident=args.incident,
        title=args.title,
        start=parse_time(args.start),
        due_hours=args.due_hours,
        owner=args.owner,
    )
    return f"clock {new_id} added: {args.title}"


def cmd_clock_list(args) -> str | None:
    found = recovery.list_clocks(_store(), incident=args.incident)
    if args.format == "json":
        return _out(json.dumps([c.to_json() for c in found], ensure_ascii=False, indent=1) + "\n")
    rows = [[str(c.id), c.incident, c.title, c.owner, c.state, c.countdown()] for c in found]
    return _out(_table(rows, ["id", "incident", "clock", "owner", "state", "when"]))


def cmd_clock_met(args) -> str:
    store = _store()
    recovery.clock_met(
        store,
        actor_for(store, args.as_user),
        clock_id=args.id,
        reference=args.reference,
        at=parse_time(args.at) if args.at else None,
    )
    return f"clock {args.id} met: reference {args.reference}"


# --- incidents ------------------------------------------------------------------------


def cmd_incident_add(args) -> str:
    store = _store()
    actor = actor_for(store, args.as_user)
    add_incident(
        store,
        actor,
        name=args.name,
        started_at=parse_time(args.start),
        target_date=parse_date(args.target) if args.target else None,
        description=args.description or "",
    )
    if args.reinfection_days is not None:
        recovery.set_reinfection_days(store, actor, incident=args.name, days=args.reinfection_days)
    return f"incident added: {args.name}"


def cmd_incident_list(args) -> str | None:
    found = recovery.incident_statuses(_store())
    if args.format == "json":
        rows = [
            {
                "name": s.name,
                "started_at": s.started_at.isoformat(),
                "state": s.state,
                "reinfection_days": s.reinfection_days,
                "proposed_by": s.proposed_by,
                "confirmed_by": s.confirmed_by,
            }
            for s in found
        ]
        return _out(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    rows = [
        [
            s.name,
            show(s.started_at),
            s.state,
            str(s.reinfection_days),
            s.proposed_by or "",
            s.confirmed_by or "",
        ]
        for s in found
    ]
    return _out(
        _table(
            rows, ["incident", "began", "state", "re-infection days", "proposed by", "confirmed by"]
        )
    )


def _action(text: str) -> tuple[str, str]:
    what, sep, owner = text.rpartition("=")
    if not sep:
        raise ValidationError(f"--action {text!r} must be 'WHAT=OWNER'")
    return what, owner


def cmd_incident_close(args) -> str:
    store = _store()
    lessons = args.lessons or ""
    if args.lessons_file:
        lessons = Path(args.lessons_file).read_text(encoding="utf-8")
    recovery.propose_close(
        store,
        actor_for(store, args.as_user),
        incident=args.incident,
        lessons=lessons,
        actions=[_action(a) for a in args.action or []],
    )
    return f"proposed closing {args.incident}: leadership confirms with `incident confirm-close`"


def cmd_incident_confirm(args) -> str:
    store = _store()
    recovery.confirm_close(store, actor_for(store, args.as_user), incident=args.incident)
    return f"closed {args.incident}; the final report is stored (`incident report`)"


def cmd_incident_report(args) -> str:
    data = closing.final_report(_store(), incident=args.incident, fmt=args.format)
    Path(args.output).write_bytes(data)
    return f"wrote {args.output}"


# --- registration ---------------------------------------------------------------------


def _group(sub, name: str, help_: str):
    group = sub.add_parser(name, help=help_, description=help_)
    return group.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")


def _target(cmd, as_user: bool = True) -> None:
    if as_user:
        cmd.add_argument("--as", dest="as_user", required=True, help="acting username")
    cmd.add_argument("--branch", required=True, help="branch name or slug")
    cmd.add_argument("--system", required=True, help="system key, e.g. email")


def register(sub, add: Callable) -> None:
    """Add the commands to cli.build_parser's subparsers, using its `add` helper."""
    ck = _group(sub, "checklist", "recovery checklists: show and tick items")
    c = add("show", cmd_checklist_show, "a branch system's checklist with every tick", ck)
    _target(c, as_user=False)
    c.add_argument("--format", choices=["table", "json"], default="table")
    c = add("tick", cmd_checklist_tick, "tick an item (chairs: own branch; HQ IT: any)", ck)
    _target(c)
    c.add_argument("--item", required=True, help="the item's key, e.g. credentials-reset")
    c.add_argument("--note", help="note (at most 2,000 characters)")
    c.add_argument("--evidence", help="evidence file: PDF, PNG or text, at most 10 MB")
    c = add("defaults", cmd_checklist_defaults, "add the default checklist items (HQ IT)", ck)
    c.add_argument("--as", dest="as_user", required=True, help="acting username")
    c.add_argument("--file", help="checklist CSV (default: data/checklist.csv)")
    c = add("evidence", cmd_checklist_evidence, "download an evidence file (HQ IT)", ck)
    c.add_argument("--as", dest="as_user", required=True, help="acting username")
    c.add_argument("--id", type=int, required=True, help="the file's id (checklist show)")
    c.add_argument("--output", required=True, help="file to write")

    dp = _group(sub, "depends", "dependencies between branch systems")
    for name, func, help_ in (
        ("add", cmd_depends_add, "declare that a branch system waits on another (HQ IT)"),
        ("remove", cmd_depends_remove, "remove a declared dependency (HQ IT)"),
    ):
        c = add(name, func, help_, dp)
        _target(c)
        c.add_argument("--on", required=True, help="BRANCH:SYSTEM it waits on, e.g. hq:email")
    c = add("list", cmd_depends_list, "every dependency, and what blocks each system now", dp)
    c.add_argument("--format", choices=["table", "json"], default="table")
    c = add("defaults", cmd_depends_defaults, "add the default dependencies (HQ IT)", dp)
    c.add_argument("--as", dest="as_user", required=True, help="acting username")
    c.add_argument("--file", help="dependencies CSV (default: data/depends.csv)")

    cl = _group(sub, "clock", "regulatory and contractual clocks of an incident")
    c = add("add", cmd_clock_add, "start a clock (HQ IT, leadership)", cl)
    c.add_argument("--as", dest="as_user", required=True, help="acting username")
    c.add_argument("--incident", required=True, help="incident name")
    c.add_argument("--title", required=True, help="e.g. 'ICO notification (72 hours)'")
    c.add_argument("--start", required=True, help="when it started, ISO 8601 (no offset = London)")
    c.add_argument("--due-hours", type=int, required=True, help="hours from start to due")
    c.add_argument("--owner", help="who answers for it (default: the acting user)")
    c = add("list", cmd_clock_list, "every clock with its state and countdown", cl)
    c.add_argument("--format", choices=["table", "json"], default="table")
    c.add_argument("--incident", help="only this incident's clocks")
    c = add("met", cmd_clock_met, "record the notification that meets a clock", cl)
    c.add_argument("--as", dest="as_user", required=True, help="acting username")
    c.add_argument("--id", type=int, required=True, help="the clock's id (clock list)")
    c.add_argument("--reference", required=True, help="the notification's reference number")
    c.add_argument("--at", help="when it was made (default now)")

    inc = _group(sub, "incident", "incidents: add, list, close (two keys), final report")
    c = add("add", cmd_incident_add, "add an incident (HQ IT)", inc)
    c.add_argument("--as", dest="as_user", required=True, help="acting username")
    c.add_argument("--name", required=True, help="incident name")
    c.add_argument("--start", required=True, help="when it began, ISO 8601 (no offset = London)")
    c.add_argument("--target", help="restoration target date, YYYY-MM-DD")
    c.add_argument("--description", help="one line on what happened")
    c.add_argument("--reinfection-days", type=int, help="days without re-infection to close (14)")
    c = add("list", cmd_incident_list, "every incident with its closing state", inc)
    c.add_argument("--format", choices=["table", "json"], default="table")
    c = add("close", cmd_incident_close, "propose recovery complete (HQ IT)", inc)
    c.add_argument("--as", dest="as_user", required=True, help="acting username")
    c.add_argument("--incident", required=True, help="incident name")
    c.add_argument("--lessons", help="lessons learned (text)")
    c.add_argument("--lessons-file", help="lessons learned from a UTF-8 text file")
    c.add_argument("--action", action="append", help="an action and its owner: 'WHAT=OWNER'")
    c = add("confirm-close", cmd_incident_confirm, "confirm a proposed closing (leadership)", inc)
    c.add_argument("--as", dest="as_user", required=True, help="acting username")
    c.add_argument("--incident", required=True, help="incident name")
    c = add("report", cmd_incident_report, "write a closed incident's final report", inc)
    c.add_argument("--incident", required=True, help="incident name")
    c.add_argument("--format", choices=["md", "pdf"], default="md")
    c.add_argument("--output", required=True, help="file to write")
