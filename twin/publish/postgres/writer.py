"""Write the current publication of this TWIN_HOME into PostgreSQL, one transaction per site.

``mirror_current_publication`` runs after the local publication is complete (catalog.duckdb
switched, report written, change events queued). It copies every object of the version's
catalog.duckdb (the published tables and the rows of the connector views) into
``twin_published``, replacing exactly this site's rows in one transaction:

* readers see the site's old rows or its new rows, never a mix (MVCC: the deletes and inserts
  become visible together at commit; a reader's statement works on one snapshot);
* other sites' rows are not touched: every delete is ``where <site column> = <this site>`` and no
  relation has a unique key across sites, so two sites publishing at once never wait on each
  other's rows (and cannot deadlock);
* publications of one site are serialised by ``pg_advisory_xact_lock(namespace, hashtext(site))``,
  and the local current version is read again under that lock, so PostgreSQL ends with what
  catalog.duckdb serves even when two publishers of one TWIN_HOME finish in either order.

When PostgreSQL cannot take the publication the transaction rolls back (PostgreSQL keeps the
site's previous publication, whole) and PostgresPublicationError says so in one sentence naming
the server by ``redact_url``. The local publication stays current: it is complete and consistent
on its own (catalog, manifest, report and events agree), and the next publication writes the
then-current version to PostgreSQL. Rolling the local version back would be a second switch that
readers of catalog.duckdb could see flicker.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin import settings
from twin.publish.catalog import CATALOG_NAME
from twin.publish.postgres.checks import contract_failures
from twin.publish.postgres.connection import (
    PostgresPublicationError,
    open_connection,
    safe_reason,
)
from twin.publish.postgres.schema import (
    LOCK_NAMESPACE,
    PUBLICATION_OBJECTS,
    PUBLICATIONS,
    SCHEMA,
    SchemaMismatch,
    ensure_schema,
    quote_ident,
    relations,
)

if TYPE_CHECKING:
    import duckdb
    import psycopg

    from twin.paths import TwinPaths

log = logging.getLogger(__name__)

LIVE_MANIFEST = "manifest.json"  # twin.publish.versions.MANIFEST_NAME (not imported: no cycle)
FETCH_ROWS = 10_000  # rows per DuckDB fetch while streaming into COPY


@dataclass(frozen=True)
class MirrorResult:
    """What one call wrote: the site, the publication PostgreSQL now holds for it, and rows."""

    site_id: str
    publication_id: str
    written: bool  # False when PostgreSQL already held this publication for the site
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Version:
    publication_id: str
    published_at: dt.datetime
    version_dir: Path
    manifest: dict[str, Any]

    @property
    def catalog(self) -> Path:
        return self.version_dir / CATALOG_NAME


def _current_version(published: Path) -> _Version | None:
    try:
        live = json.loads((published / LIVE_MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    version_dir = published / live["version_dir"]
    manifest = json.loads((version_dir / LIVE_MANIFEST).read_text(encoding="utf-8"))
    published_at = dt.datetime.strptime(manifest["published_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return _Version(live["publication_id"], published_at, version_dir, manifest)


def _catalog_objects(duck: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, int]]:
    """(name, kind, contract_version, rows) from the catalog's own index ``_publication``."""
    return duck.execute(
        "select name, kind, contract_version, row_count from _publication order by name"
    ).fetchall()


def _site_of(duck: duckdb.DuckDBPyConnection, version: _Version) -> str:
    tables = [r for r in relations() if r.kind == "table"]
    union = " union ".join(f'select distinct site_id from "{r.name}"' for r in tables)
    sites = sorted(str(row[0]) for row in duck.execute(union).fetchall() if row[0] is not None)
    if len(sites) != 1:
        raise PostgresPublicationError(
            f"publication {version.publication_id} holds rows of {len(sites)} sites "
            f"({', '.join(sites) or 'none'}); a deployment publishes exactly one site."
        )
    return sites[0]


def _copy_relation(
    conn: psycopg.Connection, duck: duckdb.DuckDBPyConnection, relation, site_id: str
) -> int:
    """Replace the site's rows of one relation with the catalog's (inside the caller's transaction)."""
    site_column = quote_ident(relation.site_column)
    conn.execute(f"delete from {relation.qualified} where {site_column} = %s", (site_id,))
    columns = ", ".join(quote_ident(c) for c, _ in relation.columns)
    result = duck.execute(f"select {columns} from {quote_ident(relation.name)}")
    copied = 0
    with (
        conn.cursor() as cursor,
        cursor.copy(f"copy {relation.qualified} ({columns}) from stdin") as copy,
    ):
        while batch := result.fetchmany(FETCH_ROWS):
            for row in batch:
                copy.write_row(row)
            copied += len(batch)
    return copied


def _write_lineage(
    conn: psycopg.Connection, site_id: str, version: _Version, objects: list[tuple]
) -> None:
    from psycopg.types.json import Jsonb

    conn.execute(f"delete from {SCHEMA}.{PUBLICATION_OBJECTS} where site_id = %s", (site_id,))
    with conn.cursor() as cursor:
        cursor.executemany(
            f"insert into {SCHEMA}.{PUBLICATION_OBJECTS}"
            " (site_id, publication_id, name, kind, contract_version, row_count)"
            " values (%s, %s, %s, %s, %s, %s)",
            [(site_id, version.publication_id, *obj) for obj in objects],
        )
    conn.execute(
        f"insert into {SCHEMA}.{PUBLICATIONS}"
        " (site_id, publication_id, published_at, model_version, written_at, manifest)"
        " values (%s, %s, %s, %s, now(), %s)"
        " on conflict (site_id) do update set publication_id = excluded.publication_id,"
        " published_at = excluded.published_at, model_version = excluded.model_version,"
        " written_at = excluded.written_at, manifest = excluded.manifest",
        (
            site_id,
            version.publication_id,
            version.published_at,
            version.manifest.get("model_version"),
            Jsonb(version.manifest),
        ),
    )


def _held_publication(conn: psycopg.Connection, site_id: str) -> str | None:
    row = conn.execute(
        f"select publication_id from {SCHEMA}.{PUBLICATIONS} where site_id = %s", (site_id,)
    ).fetchone()
    return row[0] if row else None


def write_site(conn: psycopg.Connection, published: Path) -> MirrorResult | None:
    """Make PostgreSQL hold, for this site, the version ``published/catalog.duckdb`` serves now."""
    import duckdb

    started = time.perf_counter()
    version = _current_version(published)
    if version is None:
        return None
    with duckdb.connect(str(version.catalog), read_only=True) as duck:
        site_id = _site_of(duck, version)
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, site_id))
        version = _current_version(published)  # under the lock: the switch may have moved on
        if _held_publication(conn, site_id) == version.publication_id:
            return MirrorResult(site_id, version.publication_id, written=False)
        with duckdb.connect(str(version.catalog), read_only=True) as duck:
            objects = _catalog_objects(duck)
            rows = {r.name: _copy_relation(conn, duck, r, site_id) for r in relations()}
        _write_lineage(conn, site_id, version, objects)
        failures = contract_failures(conn, site_id, {name: n for name, _, _, n in objects})
        if failures:
            raise PostgresPublicationError(
                "what PostgreSQL would hold breaks the published contracts: " + "; ".join(failures)
            )
    return MirrorResult(
        site_id, version.publication_id, True, rows, round(time.perf_counter() - started, 3)
    )


def mirror_current_publication(paths: TwinPaths) -> MirrorResult | None:
    """Write the current publication into ``TWIN_PUBLISH_POSTGRES``; a no-op when it is unset.

    Raises PostgresPublicationError (one sentence, no secret) when PostgreSQL did not take it.
    """
    import psycopg

    url = settings.publish_postgres_url()
    if url is None:
        return None
    current = _current_version(paths.published)
    if current is None:
        return None
    where = settings.redact_url(url)
    try:
        with open_connection(url) as conn:
            ensure_schema(conn)
            result = write_site(conn, paths.published)
    except (PostgresPublicationError, SchemaMismatch, psycopg.Error, ValueError) as error:
        reason = str(error).rstrip(".") if isinstance(error, PostgresPublicationError) else None
        raise PostgresPublicationError(
            f"publication {current.publication_id} is current in catalog.duckdb, but PostgreSQL at "
            f"{where} did not take it (it keeps what it held for the site before): "
            f"{reason or safe_reason(error, url)}."
        ) from None
    if result is not None and result.written:
        log.info(
            "publication %s of site %s written to %s: %d rows in %.2f s",
            result.publication_id,
            result.site_id,
            where,
            sum(result.rows.values()),
            result.seconds,
        )
    return result
