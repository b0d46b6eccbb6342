"""A private Redis server for tests and benchmarks: a temp dir, a free loopback port, a password.

Nothing runs before the tests (DESIGN §5): whoever needs Redis starts its own server from Debian's
``redis-server`` and stops it afterwards, even when the work fails:

    with RedisServer.start() as server:
        url = server.url()          # redis://:PASSWORD@127.0.0.1:PORT/0

The password is there so tests can prove a broker URL's secret never reaches logs or metadata.
Persistence is off (no RDB, no AOF): the data goes with the server's directory.

``twin_workers`` runs the real `twin workers --count N` against such a server for as long as a
``with`` block lasts, and leaves no worker process behind (the tests and bench/celery_scenarios.py).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port

REDIS_SERVER = "redis-server"
START_TIMEOUT_S = 20
TWIN = Path(sys.executable).with_name("twin")
# a worker loads the code location before it says "ready"; ~5 s alone, more on loaded cores
WORKERS_READY_TIMEOUT_S = 120
# `twin workers` gives its workers 20 s to finish a step on SIGTERM before it kills them
WORKERS_STOP_TIMEOUT_S = 60


def find_redis_server() -> str | None:
    """The redis-server binary, or None when Debian's package is not installed."""
    return shutil.which(REDIS_SERVER) or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )


@dataclass
class RedisServer:
    root: Path
    port: int
    password: str
    process: subprocess.Popen
    host: str = "127.0.0.1"
    _stopped: bool = field(default=False, repr=False)

    @classmethod
    def start(cls, attempts: int = 3) -> RedisServer:
        """Start a server on a free port; raises RuntimeError if it does not answer PING."""
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("redis-server not found (install Debian's redis-server).")
        root = Path(tempfile.mkdtemp(prefix="twin-redis-"))
        password = secrets.token_urlsafe(12)
        # A free port can be taken between the probe and the bind (other engineers start servers
        # too): try a few before giving up.
        for _ in range(attempts):
            port = free_port()
            config = root / "redis.conf"
            config.write_text(
                f'port {port}\nbind 127.0.0.1\ndir {root}\nsave ""\nappendonly no\n'
                f"requirepass {password}\nlogfile {root / 'redis.log'}\ndaemonize no\n"
            )
            process = subprocess.Popen(
                [binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
            )
            server = cls(root=root, port=port, password=password, process=process)
            if server._wait_until_ready():
                return server
            server.stop(keep_root=True)
        log = root / "redis.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"redis-server did not start after {attempts} attempts:\n{text}")

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@{self.host}:{self.port}/{db}"

    def client(self):
        import redis

        return redis.Redis(host=self.host, port=self.port, password=self.password)

    def _wait_until_ready(self) -> bool:
        import redis

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if self.client().ping():
                    return True
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        return False

    def stop(self, keep_root: bool = False) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and delete its directory."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not keep_root:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class TwinWorkers:
    """A running `twin workers`: its process, its workers' process ids and their log files."""

    process: subprocess.Popen
    worker_pids: tuple[int, ...]
    logs: tuple[Path, ...]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie has exited: only its parent's wait is missing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@contextmanager
def twin_workers(env: Mapping[str, str], count: int, out_file: Path) -> Iterator[TwinWorkers]:
    """`twin workers --count COUNT` with ``env`` (TWIN_HOME, TWIN_CELERY_BROKER, ...), once every
    worker has logged that it is ready; on exit SIGTERM (its own shutdown), then SIGKILL whatever is
    left, so no worker outlives the block even when the block fails."""
    logs = tuple(
        Path(env["TWIN_HOME"]) / "logs" / f"celery-worker-{n}.log" for n in range(1, count + 1)
    )
    for log in logs:  # a previous run's "ready" line must not count
        log.unlink(missing_ok=True)
    with out_file.open("ab") as out:
        process = subprocess.Popen(
            [str(TWIN), "workers", "--count", str(count)],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pids: list[int] = []
    try:
        deadline = time.monotonic() + WORKERS_READY_TIMEOUT_S
        while not all(
            log.exists() and " ready." in log.read_text(errors="replace") for log in logs
        ):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"`twin workers --count {count}` did not get ready (exit code "
                    f"{process.poll()}):\n{out_file.read_text(errors='replace')[-3000:]}"
                )
            pids = _children(process.pid) or pids
            time.sleep(0.5)
        pids = _children(process.pid)
        yield TwinWorkers(process, tuple(pids), logs)
    finally:
        pids = _children(process.pid) or pids
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=WORKERS_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for pid in pids:  # each worker leads its own process group
            if process_alive(pid):
                os.killpg(pid, signal.SIGKILL)
