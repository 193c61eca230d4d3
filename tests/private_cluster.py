"""A PostgreSQL cluster of a test's own, which it may kill -9 and start again (an outage)
without disturbing the shared server the rest of the suite uses.

`initdb` into a fresh folder owned by the `postgres` OS user (PostgreSQL refuses to run as
root), trust authentication on 127.0.0.1 and a free port, the socket in the folder itself.
Missing binaries fail the test: the outage contract must not pass by being skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.test_cli import _free_port

OS_USER = "postgres"


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major, reverse=True)
    if not found:
        found = [path for path in [shutil.which("initdb")] if path]
    if not found:
        pytest.fail("initdb not found (install PostgreSQL's server binaries)", pytrace=False)
    return Path(found[0]).parent


def _major(path: str) -> int:
    version = Path(path).parts[-3]
    return int(version) if version.isdigit() else 0


def _as_postgres() -> list[str]:
    """Run as the postgres OS user (the tests run as root; PostgreSQL will not)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        pytest.fail(f"no `{OS_USER}` OS user to run a private cluster as", pytrace=False)
    return ["runuser", "-u", OS_USER, "--"]


@dataclass
class PrivateCluster:
    folder: Path
    port: int
    bin: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.folder / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def start(self, timeout: float = 30.0) -> float:
        """Starts the server on its folder and port; returns when it accepts connections
        (after crash recovery, when it was killed), with the monotonic time it did."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*_as_postgres(), str(self.bin / "postgres"), "-D", str(self.data),
                 "-p", str(self.port), "-k", str(self.folder),
                 "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise AssertionError(f"postgres exited:\n{self.log.read_text()[-3000:]}")
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return time.monotonic()
            except psycopg.OperationalError:
                time.sleep(0.05)
        raise AssertionError(f"postgres did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the postmaster and every backend at once (each backend has a session
        of its own, so a process group is not enough): the sockets close, nothing is shut
        down cleanly."""
        assert self.process is not None
        family = self._family()
        for pid in reversed(family):  # the (stopped) postmaster last: no backend sees it go
            _signal(pid, signal.SIGKILL)
        os.killpg(self.process.pid, signal.SIGKILL)  # runuser
        self.process.wait(10)
        until = time.monotonic() + 10
        while any(_alive(pid) for pid in family) and time.monotonic() < until:
            time.sleep(0.02)  # a restart must not find one attached to the old shared memory
        # The dead postmaster may linger as a zombie until whoever inherited it reaps it, and
        # a restart would take its lock files for a live server's.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        (self.folder / f".s.PGSQL.{self.port}.lock").unlink(missing_ok=True)

    def freeze(self) -> None:
        """SIGSTOP to the postmaster and every backend: connections are accepted by the
        kernel and never answered, as behind a black hole."""
        for pid in self._family():
            _signal(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._family(hold=False):
            _signal(pid, signal.SIGCONT)

    def _postmaster(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None  # not running

    def _family(self, hold: bool = True) -> list[int]:
        """The postmaster (stopped first when `hold`, so it forks no more) and its children."""
        postmaster = self._postmaster()
        if postmaster is None:
            return []
        if hold:
            _signal(postmaster, signal.SIGSTOP)
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            postmaster = self._postmaster()
            if postmaster is not None:
                _signal(postmaster, signal.SIGCONT)  # were it frozen
                _signal(postmaster, signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def _signal(pid: int, signo: int) -> None:
    try:
        os.kill(pid, signo)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    """Running: neither gone nor a zombie waiting for whoever inherited it to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    binaries = _binaries()
    folder = Path(tempfile.mkdtemp(prefix="credledger-pg-"))
    try:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(OS_USER)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        cluster = PrivateCluster(folder, _free_port(), binaries)
        subprocess.run(
            [*_as_postgres(), str(binaries / "initdb"), "-D", str(cluster.data), "-A", "trust",
             "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"],
            check=True, capture_output=True,
        )  # fmt: skip
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
