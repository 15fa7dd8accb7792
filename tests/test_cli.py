"""`python -m restore`: every command, its help, and one-line errors with exit code 2."""

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restore.cli import build_parser, main

COMMANDS = [
    ["init"], ["seed"], ["user", "add"], ["status", "set"], ["import"], ["export"], ["board"],
    ["briefing"], ["audit", "verify"], ["audit", "export"], ["backup"], ["restore"],
]  # fmt: skip


@pytest.fixture
def cli_db(db_url, monkeypatch):
    """RESTORE_DATABASE_URL pointing at an initialised, seeded database with an HQ IT user."""
    monkeypatch.setenv("RESTORE_DATABASE_URL", db_url)
    assert main(["init"]) == 0
    assert main(["seed"]) == 0
    monkeypatch.setattr(sys, "stdin", _stdin("correct horse battery\n"))
    assert main(["user", "add", "it", "--role", "hq-it", "--password-stdin"]) == 0
    return db_url


def _stdin(text):
    return io.StringIO(text)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*command, "--help"])
    assert done.value.code == 0
    assert "usage: python -m restore" in capsys.readouterr().out


def test_init_and_seed_are_safe_to_run_again(cli_db, capsys):
    assert main(["init"]) == 0 and main(["seed"]) == 0
    assert "0 branches and 0 systems added" in capsys.readouterr().out


def test_status_set_records_and_board_shows_it(cli_db, capsys):
    assert (
        main(
            [
                "status",
                "set",
                "--as",
                "it",
                "--branch",
                "Kent",
                "--system",
                "email",
                "--state",
                "outage",
                "--note",
                "<b>down</b>",
                "--eta",
                "2099-01-01",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["board", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    kent = next(r for r in rows if r["branch"] == "Kent" and r["system"] == "email")
    assert {k: kent[k] for k in ("state", "eta", "note", "updated_by")} == {
        "state": "outage",
        "eta": "2099-01-01",
        "note": "<b>down</b>",
        "updated_by": "it",
    }
    assert {"branch", "system", "state", "since", "eta", "note", "updated_by"} <= set(kent)
    events = json.loads(_export(capsys, "json"))
    assert events[0]["source"] == "cli"


def _export(capsys, fmt):
    capsys.readouterr()
    assert main(["export", "--format", fmt]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "status",
                "set",
                "--as",
                "ghost",
                "--branch",
                "Kent",
                "--system",
                "email",
                "--state",
                "outage",
            ],
            "error: unknown or inactive user 'ghost'",
        ),
        (
            [
                "status",
                "set",
                "--as",
                "it",
                "--branch",
                "Kent",
                "--system",
                "email",
                "--state",
                "restored",
            ],
            "error: cannot move as a first report to 'restored'; legal next states",
        ),
        (
            [
                "status",
                "set",
                "--as",
                "it",
                "--branch",
                "Kent",
                "--system",
                "email",
                "--state",
                "outage",
                "--at",
                "soon",
            ],
            "error: 'soon' is not a time",
        ),
        (["import", "missing.csv", "--as", "it"], "error: no such file: missing.csv"),
        (["board", "--as-of", "never"], "error: 'never' is not a time"),
        (["user", "add", "Bad Name", "--role", "chair"], "error: username 'Bad Name' must be"),
        (["seed", "--demo", "--start", "09/03/2019"], "error: '09/03/2019' is not a date"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(cli_db, capsys, args, message):
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_import_reports_bad_rows_by_line_and_writes_nothing(cli_db, tmp_path, capsys):
    f = tmp_path / "bad.csv"
    f.write_text(
        "branch,system,state,at\nKent,email,outage,2026-01-01T09:00\nMordor,email,outage,\n"
    )
    assert main(["import", str(f), "--as", "it"]) == 2
    assert "line 3: unknown branch 'Mordor'" in capsys.readouterr().err
    assert _export(capsys, "csv").strip().count("\n") == 0  # header only


def test_export_import_round_trip_through_files(cli_db, tmp_path, capsys, monkeypatch):
    main(
        [
            "status",
            "set",
            "--as",
            "it",
            "--branch",
            "Kent",
            "--system",
            "hub",
            "--state",
            "contained",
            "--at",
            "2026-03-21T08:00",
            "--note",
            'a, "quoted"\nnote',
        ]
    )
    main(
        [
            "status",
            "set",
            "--as",
            "it",
            "--branch",
            "Kent",
            "--system",
            "hub",
            "--state",
            "investigating",
            "--phone",
        ]
    )
    out = tmp_path / "log.csv"
    assert main(["export", "--output", str(out)]) == 0
    before = _board(capsys)
    monkeypatch.setenv("RESTORE_DATABASE_URL", f"sqlite:///{tmp_path / 'copy.db'}")
    assert main(["init"]) == 0 and main(["seed"]) == 0
    monkeypatch.setattr(sys, "stdin", _stdin("correct horse battery\n"))
    main(["user", "add", "it", "--role", "hq-it", "--password-stdin"])
    assert main(["import", str(out), "--as", "it"]) == 0
    assert _board(capsys) == before


def _board(capsys):
    capsys.readouterr()
    main(["board", "--format", "csv"])
    return capsys.readouterr().out


def test_commands_refuse_a_database_without_schema(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RESTORE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["board"]) == 2
    assert "run `python -m restore init` first" in capsys.readouterr().err


def test_python_dash_m_restore_exits_2_without_traceback(tmp_path):
    env = {"RESTORE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "restore", "board"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[1],
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr


def test_briefing_writes_markdown_and_pdf_and_publishes(cli_db, tmp_path, capsys, monkeypatch):
    main(
        ["status", "set", "--as", "it", "--branch", "Kent", "--system", "hub", "--state", "outage"]
    )
    md, pdf = tmp_path / "b.md", tmp_path / "b.pdf"
    assert main(["briefing", "--output", str(md)]) == 0
    assert md.read_text().startswith("# Draft briefing")
    assert main(["briefing", "--format", "pdf", "--output", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert main(["briefing", "--publish", "--as", "it", "--title", "Weekly"]) == 0
    assert "published briefing 1: Weekly" in capsys.readouterr().out
    assert main(["briefing", "--id", "1", "--output", str(md)]) == 0
    assert md.read_text().startswith("# Weekly")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["briefing"], "error: give --output FILE (or --publish)"),
        (["briefing", "--publish", "--as", "it"], "error: --publish needs --as USER and --title"),
        (["briefing", "--id", "9", "--output", "x.md"], "error: no published briefing 9"),
    ],
)
def test_briefing_errors_are_one_line(cli_db, capsys, args, message):
    capsys.readouterr()
    assert main(args) == 2
    assert capsys.readouterr().err.startswith(message)


def test_status_set_names_the_incident_when_two_are_open(cli_db, capsys):
    from restore.directory import SYSTEM, add_incident
    from restore.store import Store

    store = Store(cli_db)
    for name, days in (("HQ attack", 20), ("Branch attack", 5)):
        add_incident(store, SYSTEM, name=name, started_at=datetime.now(UTC) - timedelta(days=days))
    base = ["status", "set", "--as", "it", "--branch", "hq", "--system", "email"]
    assert main([*base, "--state", "contained"]) == 2
    assert "more than one incident is open (HQ attack; Branch attack)" in capsys.readouterr().err
    assert main([*base, "--state", "contained", "--incident", "HQ attack"]) == 0
    assert main([*base, "--state", "investigating"]) == 0  # the episode's incident carries on
    capsys.readouterr()
    assert main(["export", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["incident"] for r in rows] == ["HQ attack", "HQ attack"]
    store.dispose()
