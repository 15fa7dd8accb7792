"""`python -m restore user invite|reset|notify`, `remind`, `alerts subscribe|send` and
`deliveries`.

cli.build_parser registers them with `register(sub, add)`; `user add --notify URL` uses
check_urls and add_user_channels. Like every command, each returns a message; a user
error raises RestoreError (printed as `error: ...`, exit 2).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from restore import csv_safe
from restore.notify import alerts, channels, delivery, invitations, reminders
from restore.store import now_utc


def _store():
    from restore.cli import _store

    return _store()


def _system():
    from restore.directory import SYSTEM

    return SYSTEM


def check_urls(urls: list[str] | None) -> list[str]:
    """Every --notify URL checked before anything is written (ValidationError, masked)."""
    return list(dict.fromkeys(channels.check_url(u) for u in urls or []))


def add_user_channels(store, username: str, urls: list[str]) -> str:
    """After `user add`: give the new user their channels; returns a note for the message."""
    for url in urls:
        channels.add_channel(store, _system(), username=username, url=url)
    return f"; {len(urls)} notification channel(s)" if urls else ""


def cmd_invite(args) -> str:
    result = invitations.invite(
        _store(), _system(), username=args.name, purpose=args.purpose, send=args.send
    )
    return f"{result.message()}\n{result.url}\n(works once, until {_show(result.expires_at)})"


def _show(when) -> str:
    from restore.timefmt import show

    return show(when)


def cmd_notify(args) -> str:
    store, lines = _store(), []
    for url in args.add or []:
        lines.append(f"added {channels.add_channel(store, _system(), username=args.name, url=url)}")
    for url in args.remove or []:
        shown = channels.remove_channel(store, _system(), username=args.name, url=url)
        lines.append(f"removed {shown}")
    have = channels.channel_list(store, args.name)
    lines.append(f"{args.name}'s channels: " + (", ".join(m for _, m in have) if have else "none"))
    return "\n".join(lines)


def cmd_remind(args) -> str:
    done = reminders.remind(_store(), _system(), dry_run=args.dry_run)
    if not done:
        return "no branch is quiet or never reported: nobody to remind"
    width = max(len(r.branch) for r in done)
    lines = [f"{r.branch:<{width}}  {r.chair or '-':<24}  {r.outcome}  ({r.quiet})" for r in done]
    head = "dry run, nothing sent:" if args.dry_run else f"reminders at {_show(now_utc())}:"
    return "\n".join([head, *lines])


def cmd_subscribe(args) -> str:
    kinds = alerts.subscribe(
        _store(), _system(), username=args.name, kinds=args.on or [], branch=args.branch
    )
    scope = args.branch or "every branch"
    if not kinds:
        return f"{args.name} gets no alerts for {scope}"
    return f"{args.name} gets alerts for {scope} when: " + "; ".join(alerts.KINDS[k] for k in kinds)


def cmd_send(args) -> str:
    store = _store()
    overdue = alerts.queue_overdue(store, now_utc())
    sent = alerts.send_due(store)
    return f"{overdue} overdue alert(s) queued; {sent} message(s) sent or tried (see `deliveries`)"


def cmd_deliveries(args) -> str | None:
    frame = delivery.delivery_frame(_store(), limit=None)
    text = csv_safe.frame_to_csv(frame)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        return f"wrote {args.output}"
    sys.stdout.write(text)
    return None


def _user_commands(sub) -> argparse._SubParsersAction:
    """The `user` command's own subcommands, which cli.build_parser made."""
    user = sub.choices["user"]
    return next(a for a in user._actions if isinstance(a, argparse._SubParsersAction))


def register(sub, add: Callable) -> None:
    """Add the commands to cli.build_parser's subparsers, using its `add` helper."""
    user_sub = _user_commands(sub)
    for name, purpose, what in (
        ("invite", "invite", "a single-use link (72 hours) to choose a first password"),
        ("reset", "reset", "a single-use link (24 hours) to choose a new password"),
    ):
        cmd = add(name, cmd_invite, what + " (needs RESTORE_BASE_URL)", user_sub)
        cmd.add_argument("name", help="username")
        cmd.add_argument(
            "--send",
            action="store_true",
            help="send it to the user's channels (default: print it to read out)",
        )
        cmd.set_defaults(purpose=purpose)
    nt = add("notify", cmd_notify, "list, add or remove a user's Apprise channels", user_sub)
    nt.add_argument("name", help="username")
    nt.add_argument("--add", action="append", metavar="URL", help="an Apprise URL (repeatable)")
    nt.add_argument("--remove", action="append", metavar="URL", help="a URL to take away")

    rm = add("remind", cmd_remind,
             "send each quiet or never-reported branch's chair a one-tap check-in link "
             "(not twice within 12 hours; needs RESTORE_BASE_URL)")  # fmt: skip
    rm.add_argument("--dry-run", action="store_true", help="say who would be reminded, send none")

    group = sub.add_parser("alerts", help="alerts on changes", description="alerts on changes")
    group_sub = group.add_subparsers(dest="alerts_command", required=True, metavar="COMMAND")
    sb = add("subscribe", cmd_subscribe, "choose which changes a user is told about", group_sub)
    sb.add_argument("name", help="username")
    sb.add_argument(
        "--on",
        action="append",
        choices=list(alerts.KINDS),
        help="all, restored, lost (again) or overdue; repeatable; none: stop",
    )
    sb.add_argument("--branch", help="only this branch (default: every branch)")
    add("send", cmd_send, "queue overdue alerts and send every alert that is due (cron)",
        group_sub)  # fmt: skip

    dl = add("deliveries", cmd_deliveries, "the delivery log as CSV (channels masked)")
    dl.add_argument("--output", help="file to write (default: stdout)")
