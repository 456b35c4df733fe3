"""A throw-away PostgreSQL cluster and a gunicorn server, for the load and fault benchmarks.

The cluster is made with initdb from ``PG_BIN`` (default /usr/lib/postgresql/15/bin) in a
temporary directory, on its own port, listening on 127.0.0.1 only, run as the ``postgres`` user
when started as root (initdb refuses root). fsync stays on: these benchmarks measure durability.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
STREHA = [sys.executable, "-m", "streha.cli"]


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class Cluster:
    def __init__(self, port: int, data_dir: Path | None = None, settings: dict | None = None):
        self.port = port
        self.base = Path(tempfile.mkdtemp(prefix=f"streha-pg{port}-"))
        self.data = data_dir or self.base / "data"
        self.log = self.base / "postgres.log"
        self.settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{self.base}'",
            "max_connections": "200",
            "shared_buffers": "256MB",
            **(settings or {}),
        }
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")

    def url(self, database: str = "streha") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> "Cluster":
        self.data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
            ),
            check=True,
            capture_output=True,
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            for key, value in self.settings.items():
                conf.write(f"{key} = {value}\n")
        return self

    def start(self) -> None:
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "start"]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop"]),
            check=False,
            capture_output=True,
        )

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def kill9(self) -> None:
        """kill -9 the postmaster and every backend (as a crash of the machine's database)."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        children = subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        for victim in [pid, *map(int, children)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)

    def createdb(self, name: str = "streha") -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streha(*args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*STREHA, *args], env={**os.environ, **env}, check=check, capture_output=True, text=True
    )


class Server:
    """gunicorn through `streha serve`, in its own process group."""

    def __init__(self, env: dict, workers: int, port: int | None = None, log: Path | None = None):
        self.env = {**os.environ, **env}
        self.workers = workers
        self.port = port or free_port()
        self.log = log or Path(tempfile.mkstemp(prefix="streha-gunicorn-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 60) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/bench/
        handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [*STREHA, "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                # Under load the check waits in line behind the writers' requests: give it time.
                left = max(2.0, min(30.0, deadline - time.monotonic()))
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=left) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer on {self.base}; see {self.log}")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        return [int(pid) for pid in found]

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None
