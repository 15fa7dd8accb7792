"""A private, throwaway PostgreSQL cluster that a test may stop and start at will.

Never the shared server on 5432: `throwaway_postgres()` runs initdb in a fresh temporary
directory, serves it on a free port on 127.0.0.1 only (trust authentication, fsync off), and
removes the cluster and the directory at exit, even when the test fails. Run as root, initdb
and pg_ctl run as the `postgres` OS user (initdb refuses root). Without the binaries the test
skips, saying why, unless RESTORE_REQUIRE_BROWSER=1 (CI), where it fails instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

OS_USER = "postgres"
SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 16MB
log_min_messages = warning
"""


def find_bin() -> Path | None:
    """The directory holding initdb and pg_ctl: RESTORE_PG_BIN, PATH, or Debian's newest."""
    candidates = [os.environ.get("RESTORE_PG_BIN", "")]
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).resolve().parent))
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(debian, key=lambda p: _version(Path(p).parent.name), reverse=True)
    for c in filter(None, candidates):
        if all(os.access(Path(c) / n, os.X_OK) for n in ("initdb", "pg_ctl", "postgres")):
            return Path(c)
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _unavailable(reason: str):
    if os.environ.get("RESTORE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"RESTORE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """One cluster in `root`; `.url` reaches its `postgres` database as the `postgres` role."""

    def __init__(self, bindir: Path, root: Path, as_user: str | None):
        self.bindir, self.root, self.as_user = bindir, root, as_user
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = 0
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
        for name in ("PGHOST", "PGPORT", "PGDATA", "PGUSER", "PGDATABASE", "PGPASSWORD"):
            env.pop(name, None)
        done = subprocess.run(
            cmd, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args[:1] + args[-1:])} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}\n{log}"
            )
        return done

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def configure(self, port: int) -> None:
        self.port = port
        conf = self.data / "postgresql.auto.conf"  # read last, so these settings win
        conf.write_text(SETTINGS.format(port=port, sockets=self.root))
        if self.as_user:
            shutil.chown(conf, self.as_user, self.as_user)

    def start(self) -> None:
        """Start (again) on the same port and data directory; returns once it takes connections."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Shut down (fast: open sessions are ended, open transactions rolled back)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
        self.running = False

    def _postmaster_pid(self) -> int | None:
        with suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return None

    def destroy(self) -> None:
        """Stop the server however it can be stopped, then delete everything."""
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except Exception:
                pid = self._postmaster_pid()  # the postmaster this kit started, by its id
                if pid:
                    with suppress(OSError):
                        os.kill(pid, signal.SIGQUIT)
                    time.sleep(1)
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A fresh, running cluster on a free port; stopped and deleted at exit whatever happens."""
    bindir = find_bin()
    if bindir is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl); set RESTORE_PG_BIN")
    as_user = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            _unavailable(f"running as root and there is no {OS_USER!r} OS user to run initdb")
        if not shutil.which("runuser"):
            _unavailable("running as root and there is no `runuser` to run initdb as postgres")
        as_user = OS_USER
    root = Path(tempfile.mkdtemp(prefix="restore-pg-"))
    if as_user:
        shutil.chown(root, as_user, as_user)
    cluster = ThrowawayPostgres(bindir, root, as_user)
    try:
        cluster.init()
        for attempt in range(3):  # a free port can be taken before the server binds it
            cluster.configure(_free_port())
            try:
                cluster.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        yield cluster
    finally:
        cluster.destroy()
