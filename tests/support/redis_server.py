"""A private Redis server for tests: started in a temp dir, on a free loopback port, with a password.

Nothing runs before the tests (DESIGN §5): a test session that needs Redis starts its own server
from Debian's ``redis-server`` and stops it afterwards, even when tests fail.

    server = RedisServer.start()
    url = server.url()          # redis://:PASSWORD@127.0.0.1:PORT/0
    server.stop()

or, in a test module:

    from tests.support.redis_server import redis_server  # noqa: F401

The password is there so tests can prove a broker URL's secret never reaches logs or metadata.
Persistence is off (no RDB, no AOF): the data is thrown away with the server.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REDIS_SERVER = "redis-server"
START_TIMEOUT_S = 20


def find_redis_server() -> str | None:
    """The redis-server binary, or None when Debian's package is not installed."""
    return shutil.which(REDIS_SERVER)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        for attempt in range(attempts):
            port = _free_port()
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
            if attempt == attempts - 1:
                log = (
                    (root / "redis.log").read_text(errors="replace")
                    if (root / "redis.log").exists()
                    else ""
                )
                shutil.rmtree(root, ignore_errors=True)
                raise RuntimeError(f"redis-server did not start:\n{log}")
        raise AssertionError("unreachable")

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


@pytest.fixture(scope="session")
def redis_server():
    """One private Redis server for the whole test session, stopped at the end even on failure."""
    if find_redis_server() is None:
        pytest.skip("Debian's redis-server package is not installed (run `make servers`).")
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.stop()
