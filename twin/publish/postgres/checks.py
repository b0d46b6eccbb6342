"""Contracts checked on what PostgreSQL holds: each relation's columns and types, and row counts.

The writer runs ``contract_failures`` inside a site's transaction, after the copy and before the
commit, so a publication PostgreSQL would hold wrongly is rolled back instead. ``check_site``
runs the same check afterwards from outside, against the lineage table's row counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from twin.publish.postgres.connection import connect
from twin.publish.postgres.schema import (
    PUBLICATION_OBJECTS,
    SCHEMA,
    column_failures,
    held_columns,
    quote_ident,
    relations,
)

if TYPE_CHECKING:
    import psycopg


def site_row_counts(conn: psycopg.Connection, site_id: str) -> dict[str, int]:
    """Rows PostgreSQL holds for ``site_id`` in every relation that exists."""
    held = held_columns(conn)
    counts = {}
    for relation in relations():
        if relation.name in held:
            row = conn.execute(
                f"select count(*) from {relation.qualified}"
                f" where {quote_ident(relation.site_column)} = %s",
                (site_id,),
            ).fetchone()
            counts[relation.name] = int(row[0])
    return counts


def contract_failures(
    conn: psycopg.Connection, site_id: str, expected_rows: Mapping[str, int]
) -> list[str]:
    """Why what PostgreSQL holds for the site breaks its contracts or differs from the catalog."""
    held = held_columns(conn)
    failures = column_failures(held)
    failures += [f"{SCHEMA}.{r.name} is missing" for r in relations() if r.name not in held]
    counts = site_row_counts(conn, site_id)
    for name, want in sorted(expected_rows.items()):
        have = counts.get(name)
        if have is not None and have != want:
            failures.append(
                f"{SCHEMA}.{name} holds {have} rows of site {site_id}, published {want}"
            )
    unlisted = sorted(r.name for r in relations() if r.name not in expected_rows)
    failures += [f"{name} is not in the publication's object list" for name in unlisted]
    return failures


def check_site(url: str, site_id: str) -> list[str]:
    """The contract check of one site's rows, against the row counts its lineage rows state."""
    with connect(url) as conn:
        listed = conn.execute(
            f"select name, row_count from {SCHEMA}.{PUBLICATION_OBJECTS} where site_id = %s",
            (site_id,),
        ).fetchall()
        if not listed:
            return [f"{SCHEMA}.{PUBLICATION_OBJECTS} lists no publication of site {site_id}"]
        return contract_failures(conn, site_id, {name: int(rows) for name, rows in listed})
