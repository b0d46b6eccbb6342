"""Dagster instance storage on PostgreSQL from a libpq URL (TWIN_DAGSTER_POSTGRES, DESIGN §3.7).

SQLAlchemy 2.1 maps a plain ``postgresql://`` URL to psycopg 3, whose server-side parameters break
dagster-postgres 0.29's ``NOTIFY run_events, %(id)s``; the URL is handed to dagster-postgres with
the psycopg2 driver named instead, so operators keep setting an ordinary libpq URL.

``check_reachable`` answers in a second or so what dagster-postgres would otherwise answer after
~12 s of retries and a traceback: whether the database takes a connection, in one sentence that
shows the URL only as ``redact_url`` gives it.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from dagster_postgres import DagsterPostgresStorage

from twin.settings import redact_url

LIBPQ_SCHEMES = ("postgresql", "postgres")
EXAMPLE_URL = "postgresql://user:password@host:5432/dagster"
CONNECT_TIMEOUT_S = 5


class DagsterPostgresUnavailable(Exception):
    """TWIN_DAGSTER_POSTGRES is not a PostgreSQL URL, or its database does not take a connection."""


def _scheme(url: str) -> str:
    """``postgresql`` for ``postgresql+psycopg2://...``; "" when ``url`` has no scheme."""
    head, sep, _ = url.partition("://")
    return head.split("+", 1)[0].lower() if sep else ""


def with_psycopg2_driver(url: str) -> str:
    """``url`` for SQLAlchemy with psycopg2 named, whichever driver (or none) it named before:
    psycopg 3 breaks dagster-postgres's NOTIFY (see the module docstring)."""
    if _scheme(url) not in LIBPQ_SCHEMES:
        return url
    return "postgresql+psycopg2://" + url.partition("://")[2]


def libpq_url(url: str) -> str:
    """``url`` as libpq reads it: without a SQLAlchemy ``+driver`` in the scheme."""
    return "postgresql://" + url.partition("://")[2] if _scheme(url) in LIBPQ_SCHEMES else url


def _reads_differently(url: str) -> bool:
    """True when a user name or password holds an unescaped ``/ ? #`` (or the URL cannot be split):
    libpq would then read part of the password as host or port, and echo it in its error."""
    rest = url.partition("://")[2]
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return True
    return "@" in rest and "@" not in netloc


def _without_secret(text: str, url: str) -> str:
    """``text`` (a driver's message) with the URL and its password taken out."""
    try:
        password = urlsplit(libpq_url(url)).password
    except ValueError:
        password = None
    for secret in (url, libpq_url(url), password, unquote(password or "")):
        if secret:
            text = text.replace(secret, "***")
    return text


def check_reachable(url: str, variable: str = "TWIN_DAGSTER_POSTGRES") -> None:
    """Raise DagsterPostgresUnavailable (one sentence, no password) unless ``url`` is a PostgreSQL
    URL whose database takes a connection within CONNECT_TIMEOUT_S."""
    import psycopg2

    scheme = _scheme(url)
    if not scheme:
        # not a URL at all: it may be a bare password pasted in the wrong place, so not echoed
        raise DagsterPostgresUnavailable(
            f"{variable} must be a PostgreSQL URL such as {EXAMPLE_URL}; the value set is not a URL"
        )
    if scheme not in LIBPQ_SCHEMES:
        raise DagsterPostgresUnavailable(
            f"{variable} must be a PostgreSQL URL such as {EXAMPLE_URL}, not {redact_url(url)}"
        )
    if _reads_differently(url):
        raise DagsterPostgresUnavailable(
            f"{variable} cannot be read as a URL ({redact_url(url)}): check it, and percent-encode "
            "any / ? # or @ in the user name and password, e.g. postgresql://user:p%2Fss@host/dagster"
        )
    try:
        connection = psycopg2.connect(libpq_url(url), connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg2.Error as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = _without_secret(lines[0] if lines else type(error).__name__, url)
        raise DagsterPostgresUnavailable(
            f"the Dagster instance database {variable} ({redact_url(url)}) does not take a "
            f"connection: {reason.rstrip('.')}; check the URL and that the server is running"
        ) from None
    connection.close()


class TwinPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres run, event-log and schedule storage, configured by a libpq URL."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        url = config_value.get("postgres_url")
        if url:
            config_value = {**config_value, "postgres_url": with_psycopg2_driver(url)}
        return super().from_config_value(inst_data, config_value)
