"""A private PostgreSQL 15 cluster for tests: started in a temp dir, on a free loopback port.

Nothing runs before the tests (DESIGN §5): each test session that needs PostgreSQL starts its own
cluster from Debian's binaries and stops it afterwards, even when tests fail.

    server = PostgresServer.start()
    url = server.create_database("twin")      # postgresql://twin_admin:...@127.0.0.1:PORT/twin
    server.stop()

or, in a test module (or conftest):

    from tests.support.postgres_server import postgres_server  # noqa: F401

    def test_something(postgres_server):
        url = postgres_server.create_database("something")

initdb refuses to run as root, so as root every server command runs through
``runuser -u postgres`` in a directory that user owns. fsync, full-page writes and synchronous
commit are off: the data is thrown away, and they cut initdb + start from ~4 s to ~1.5 s.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.ports import free_port

PG_BIN_CANDIDATES = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"))
SUPERUSER = "twin_admin"
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
}


def find_pg_bin() -> Path | None:
    """The folder of Debian's PostgreSQL binaries, or None when the package is not installed."""
    override = os.environ.get("TWIN_TEST_PG_BIN", "").strip()
    candidates = (Path(override),) if override else PG_BIN_CANDIDATES
    return next((path for path in candidates if (path / "initdb").exists()), None)


@dataclass
class PostgresServer:
    """A running private cluster; ``url()`` gives libpq URLs with a real password in them."""

    root: Path
    port: int
    password: str
    pg_bin: Path
    host: str = "127.0.0.1"
    superuser: str = SUPERUSER
    _stopped: bool = field(default=False, repr=False)

    @classmethod
    def start(cls, pg_bin: Path | None = None) -> PostgresServer:
        """initdb a fresh cluster in a temp dir and start it; raises RuntimeError if it cannot."""
        pg_bin = pg_bin or find_pg_bin()
        if pg_bin is None:
            raise RuntimeError("PostgreSQL binaries not found (install Debian's postgresql-15).")
        root = Path(tempfile.mkdtemp(prefix="twin-pg-"))
        os.chmod(root, 0o700)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        password = secrets.token_urlsafe(12)
        server = cls(root=root, port=0, password=password, pg_bin=pg_bin)
        try:
            server._initdb()
            server._start_on_a_free_port()
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(
        self, dbname: str = "postgres", user: str | None = None, password: str | None = None
    ) -> str:
        """A libpq URL; the superuser and its password unless ``user`` (and ``password``) are given."""
        user = user or self.superuser
        if password is None and user == self.superuser:
            password = self.password
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(dbname, safe='')}"

    def create_database(self, name: str) -> str:
        """Create an empty database (dropping one of that name first) and return its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        """Stop the cluster (immediately: the data is thrown away) and delete its directory."""
        if self._stopped:
            return
        self._stopped = True
        if (self.data_dir / "postmaster.pid").exists():
            self._run(
                "pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        os.chmod(pwfile, 0o600)
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", self.superuser, f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8",
            "--no-sync",
        )  # fmt: skip
        pwfile.unlink()

    def _start_on_a_free_port(self, attempts: int = 3) -> None:
        # A free port can be taken between the probe and the bind (other engineers start servers
        # too): try a few ports before giving up.
        for attempt in range(attempts):
            self.port = free_port()
            options = " ".join(f"-c {key}={value}" for key, value in SERVER_SETTINGS.items())
            options += f" -c port={self.port} -c unix_socket_directories={self.root}"
            result = self._run(
                "pg_ctl", "-D", str(self.data_dir), "-l", str(self.root / "server.log"),
                "-o", options, "-w", "-t", "30", "start", check=False,
            )  # fmt: skip
            if result.returncode == 0:
                return
            if attempt == attempts - 1:
                raise RuntimeError(f"PostgreSQL did not start:\n{result.stdout}\n{self.log_text()}")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.pg_bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({result.returncode}): {result.stdout}{result.stderr}"
            )
        result.stdout = (result.stdout or "") + (result.stderr or "")
        return result


@pytest.fixture(scope="session")
def postgres_server():
    """One private PostgreSQL cluster for the whole test session, stopped at the end even on failure."""
    if find_pg_bin() is None:
        pytest.skip("Debian's postgresql-15 package is not installed (run `make servers`).")
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()
