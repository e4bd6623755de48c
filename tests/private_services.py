"""PostgreSQL and Redis servers of a test's own, which the test may stop and start.

The shared servers (127.0.0.1:5432 and :6379) serve every other test and CI run on
the machine: an outage test must never stop them. These are real servers all the
same, on a free loopback port, with their files in a temporary folder:

- :class:`PrivatePostgres`: a cluster made by ``initdb`` (trust authentication, one
  database), run by ``pg_ctl``. PostgreSQL refuses to run as root, so when the tests
  run as root the cluster belongs to the ``postgres`` user (``runuser``).
- :class:`PrivateRedis`: a ``redis-server`` child without persistence; ``kill`` is a
  crash (SIGKILL, nothing saved), ``start`` brings back an empty server on the same
  port, as after losing Redis' volume.

Use them as context managers; leaving stops the server and removes its files::

    with PrivatePostgres.create() as pg, PrivateRedis.create() as broker:
        ...
        pg.stop()
        ...
        pg.start()
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

PG_BIN = Path(os.environ.get("RAGLINE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_OS_USER = "postgres"  # who runs the cluster when the tests run as root
DATABASE = "ragline"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A loopback port nothing listens on now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _wait(predicate: object, what: str, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s:g} s")
        time.sleep(0.1)


class PrivatePostgres:
    """A PostgreSQL cluster under a temporary folder, listening on 127.0.0.1:``port``."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.log = root / "postgres.log"

    @classmethod
    def create(cls) -> Self:
        """Make and start a cluster with one empty database (``url`` names it)."""
        if not (PG_BIN / "initdb").exists():
            raise AssertionError(
                f"initdb is not in {PG_BIN}: install PostgreSQL's server package, or point "
                "RAGLINE_TEST_PG_BIN at its bin folder"
            )
        root = Path(tempfile.mkdtemp(prefix="ragline-pg-"))
        server = cls(root, free_port())
        try:
            if os.geteuid() == 0:
                shutil.chown(root, PG_OS_USER, PG_OS_USER)
            server._run(
                "initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--no-sync",
            )  # fmt: skip
            server.start()
            server._run(
                "createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", DATABASE
            )
        except BaseException:
            server.close()
            raise
        return server

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", str(int(START_TIMEOUT_S)), "start")  # fmt: skip
        _wait(lambda: port_answers(self.port), "PostgreSQL did not listen")

    def stop(self) -> None:
        """A fast shutdown: sessions are cut, the port closes (what clients see of an outage)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        _wait(lambda: not port_answers(self.port), "PostgreSQL did not stop")

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PG_OS_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.root)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise AssertionError(
                f"{program} failed ({done.returncode}): {done.stderr[-2000:]}\n{log}"
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _b: TracebackType | None
    ) -> None:
        self.close()


class PrivateRedis:
    """A ``redis-server`` child on 127.0.0.1:``port``, no persistence; killed, not stopped."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls) -> Self:
        if shutil.which("redis-server") is None:
            raise AssertionError("redis-server is not installed")
        server = cls(Path(tempfile.mkdtemp(prefix="ragline-redis-")), free_port())
        try:
            server.start()
        except BaseException:
            server.close()
            raise
        return server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        assert not self.running, "this Redis already runs"
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.root),
        ]  # fmt: skip
        with (self.root / "redis.log").open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _wait(lambda: port_answers(self.port), "redis-server did not listen")

    def kill(self) -> None:
        """SIGKILL: the broker vanishes mid-conversation, as in a crash."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        _wait(lambda: not port_answers(self.port), "redis-server did not stop")

    def close(self) -> None:
        try:
            self.kill()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _b: TracebackType | None
    ) -> None:
        self.close()
