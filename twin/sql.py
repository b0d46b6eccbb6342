"""Quoting text into DuckDB SQL: string literals and identifiers (no imports from the rest of twin).

Every SQL statement the twin builds as text quotes values and names through these two functions.
"""

from __future__ import annotations


def quote_string(value: object) -> str:
    """``str(value)`` as a SQL string literal: ``it's`` → ``'it''s'``."""
    return "'" + str(value).replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """A column or table name as a quoted SQL identifier: ``end_ts`` → ``"end_ts"``."""
    return '"' + name.replace('"', '""') + '"'
