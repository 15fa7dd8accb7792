"""`python -m restore user invite|reset|notify`, `user add --notify`, `remind`, `alerts`,
`deliveries`: each a few lines over restore.notify, with one-line errors (exit 2)."""

from __future__ import annotations

import io
import sys

import pytest
from notify_kit import receiver

from restore.cli import build_parser, main

COMMANDS = [
    ["user", "invite"], ["user", "reset"], ["user", "notify"], ["remind"],
    ["alerts", "subscribe"], ["alerts", "send"], ["deliveries"],
]  # fmt: skip


@pytest.fixture
def cli_db(sqlite_url, monkeypatch):
    monkeypatch.setenv("RESTORE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("RESTORE_BASE_URL", "https://restore.example.org")
    monkeypatch.setenv("RESTORE_ALERTS_BACKGROUND", "0")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["init"]) == 0 and main(["seed"]) == 0
    return sqlite_url


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_notify_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*command, "--help"])
    assert done.value.code == 0
    assert "usage: python -m restore" in capsys.readouterr().out


def test_user_add_with_channels_then_invite_sends_the_link(cli_db, capsys):
    with receiver() as inbox:
        url = inbox.url("pat-s3cret")
        args = ["user", "add", "pat", "--role", "chair", "--branch", "kent"]
        assert main([*args, "--notify", url, "--notify", inbox.url("second")]) == 0
        assert "2 notification channel(s)" in capsys.readouterr().out
        assert main(["user", "notify", "pat"]) == 0
        listed = capsys.readouterr().out
        assert f"json://127.0.0.1:{inbox.port}/…" in listed and "s3cret" not in listed
        assert main(["user", "invite", "pat", "--send"]) == 0
        out = capsys.readouterr().out
        assert "Invitation sent to pat (2 channel(s))" in out
        assert len(inbox.wait_for(2)) == 2
        assert main(["user", "notify", "pat", "--remove", inbox.url("second")]) == 0
        assert "removed json://127.0.0.1" in capsys.readouterr().out
        assert main(["deliveries"]) == 0
        log = capsys.readouterr().out
        assert log.count(",delivered,") == 2 and "s3cret" not in log


def test_a_bad_notify_url_on_user_add_writes_nothing(cli_db, capsys):
    assert main(["user", "add", "pat", "--role", "leadership", "--notify", "nope://x"]) == 2
    assert "not a channel Apprise can send to" in capsys.readouterr().err
    assert main(["user", "notify", "pat"]) == 2
    assert "unknown user 'pat'" in capsys.readouterr().err


def test_remind_dry_run_and_the_missing_base_url_error(cli_db, capsys, monkeypatch):
    assert main(["user", "add", "pat", "--role", "chair", "--branch", "kent"]) == 0
    capsys.readouterr()
    assert main(["remind", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dry run, nothing sent:") and "pat" in out and "no channel" in out
    assert main(["alerts", "subscribe", "pat", "--on", "restored", "--on", "lost"]) == 0
    assert "a system is restored" in capsys.readouterr().out
    assert main(["alerts", "send"]) == 0
    monkeypatch.delenv("RESTORE_BASE_URL")
    assert main(["remind"]) == 2
    assert "error: RESTORE_BASE_URL is not set" in capsys.readouterr().err
