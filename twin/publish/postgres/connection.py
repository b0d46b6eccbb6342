"""Connecting to the publication database, and errors that name the server but never the secret."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twin.settings import redact_url

if TYPE_CHECKING:
    import psycopg

# A host that drops packets would otherwise hold a publication for libpq's default (forever).
CONNECT_TIMEOUT_S = 10


class PostgresPublicationError(RuntimeError):
    """Writing or reading the PostgreSQL publication failed; the message is safe to log."""


def safe_reason(error: BaseException, url: str) -> str:
    """The first line of a driver error, with anything from the URL's user part blanked out.

    libpq does not echo passwords, but it does echo conninfo fragments in some errors (an invalid
    option, a bad URI); blanking the password and user info makes that a non-question.
    """
    from urllib.parse import unquote, urlsplit

    text = (str(error).strip().splitlines() or [type(error).__name__])[0].strip()
    try:
        parts = urlsplit(url)
        secrets = [parts.password, unquote(parts.password or ""), parts.netloc.rpartition("@")[0]]
    except ValueError:
        secrets = []
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text.rstrip(".") or type(error).__name__


def open_connection(url: str) -> psycopg.Connection:
    """An autocommit connection (transactions are explicit: ``with conn.transaction()``).

    Driver errors pass through: the caller words them (``safe_reason``).
    """
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)


def connect(url: str) -> psycopg.Connection:
    """``open_connection``, raising PostgresPublicationError naming ``redact_url(url)`` on failure."""
    import psycopg

    try:
        return open_connection(url)
    except (psycopg.Error, ValueError) as error:
        raise PostgresPublicationError(
            f"cannot connect to the publication database {redact_url(url)}: "
            f"{safe_reason(error, url)}."
        ) from None
