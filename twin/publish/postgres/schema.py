"""The ``twin_published`` schema in PostgreSQL, built from the published contracts (DESIGN §3.7).

One PostgreSQL table per object of a version's catalog.duckdb: the published tables *and* the
connector views. The connector views are stored as tables written from the DuckDB views, not
re-implemented as PostgreSQL views: their SQL is DuckDB's (``date_trunc('week', date)`` gives a
timestamp there, a zoned one in PostgreSQL; ``group by all``; ``date_diff``), so a port could drift
from the catalog, while copying the rows keeps them equal row for row by construction.

Every relation has exactly its contract's columns, in contract order, so ``select *`` gives the
same shape as in catalog.duckdb. The site key is ``site_id`` on tables, and on connector views the
column the contract maps from ``site_id`` (``LOCID``, ``Site``, ``Location``). Two lineage tables:
``publications`` (one row per site: the publication PostgreSQL holds for it, with its manifest) and
``publication_objects`` (per site, every object with its contract version and row count).
Readers get the role ``twin_reader``: USAGE on the schema and SELECT on its tables, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from data_contracts import CONNECTOR_VIEWS, PUBLISHED_TABLES, load_published_contract

if TYPE_CHECKING:
    import psycopg

SCHEMA = "twin_published"
READER_ROLE = "twin_reader"
PUBLICATIONS = "publications"
PUBLICATION_OBJECTS = "publication_objects"
# Key of the transaction-level advisory lock that serialises schema changes between publishers
# (two sites creating the same tables at once would otherwise race on the catalog: duplicate key
# in pg_type). The second key is 0 here and hashtext(site_id) for a site's publication.
LOCK_NAMESPACE = 0x7457494E  # "tWIN"

# Contract type -> PostgreSQL type, and the spelling information_schema.columns.data_type uses.
PG_TYPES: dict[str, str] = {
    "varchar": "text",
    "double": "double precision",
    "integer": "integer",
    "bigint": "bigint",
    "date": "date",
    "timestamp": "timestamp without time zone",  # naive UTC, as in the catalog
    "boolean": "boolean",
}

_LINEAGE_DDL = (
    f"""create table if not exists {SCHEMA}.{PUBLICATIONS} (
        site_id text primary key,
        publication_id text not null,
        published_at timestamp without time zone not null,
        model_version text,
        written_at timestamp with time zone not null default now(),
        manifest jsonb not null
    )""",
    f"""create table if not exists {SCHEMA}.{PUBLICATION_OBJECTS} (
        site_id text not null,
        publication_id text not null,
        name text not null,
        kind text not null,
        contract_version text not null,
        row_count bigint not null,
        primary key (site_id, name)
    )""",
)


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, quoted so case is kept (``RESID``, ``EffectiveInDate``)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class PublishedRelation:
    """One object of the catalog as PostgreSQL holds it."""

    name: str
    kind: str  # "table" or "view" (what it is in catalog.duckdb; a table here either way)
    contract_version: str
    columns: tuple[tuple[str, str], ...]  # (column, contract type), contract order
    required: frozenset[str]
    site_column: str

    @property
    def qualified(self) -> str:
        return f"{SCHEMA}.{quote_ident(self.name)}"

    def pg_columns(self) -> list[tuple[str, str]]:
        """(column, information_schema data_type) in order: what the contract says PostgreSQL holds."""
        return [(column, PG_TYPES[kind]) for column, kind in self.columns]

    def create_sql(self) -> str:
        # NOT NULL only on tables: their contracts were checked before publication. Connector
        # views are checked on their columns and types, so a null there must not fail the copy.
        columns = ", ".join(
            f"{quote_ident(c)} {PG_TYPES[t]}"
            + (" not null" if self.kind == "table" and c in self.required else "")
            for c, t in self.columns
        )
        index = quote_ident(f"{self.name}_by_site")
        return (
            f"create table if not exists {self.qualified} ({columns});"
            f" create index if not exists {index} on {self.qualified} ({quote_ident(self.site_column)})"
        )


def _site_column(name: str, contract: dict) -> str:
    """``site_id``, or the connector column whose contract says it carries ``<table>.site_id``."""
    columns = contract["columns"]
    if "site_id" in columns:
        return "site_id"
    for column, spec in columns.items():
        if str(spec.get("description", "")).rstrip().endswith("site_id"):
            return column
    raise ValueError(f"published contract {name!r} names no column that carries site_id")


@cache
def relations() -> tuple[PublishedRelation, ...]:
    """Every object a version's catalog holds, tables first (the order they are written in)."""
    found = []
    for kind, names in (("table", PUBLISHED_TABLES), ("view", CONNECTOR_VIEWS)):
        for name in names:
            contract = load_published_contract(name)
            columns = tuple((c, str(s["type"]).lower()) for c, s in contract["columns"].items())
            required = frozenset(c for c, s in contract["columns"].items() if s.get("required"))
            found.append(
                PublishedRelation(
                    name,
                    kind,
                    str(contract["version"]),
                    columns,
                    required,
                    _site_column(name, contract),
                )
            )
    return tuple(found)


def held_columns(conn: psycopg.Connection) -> dict[str, list[tuple[str, str]]]:
    """What PostgreSQL holds in the schema: table -> [(column, data_type)] in column order."""
    rows = conn.execute(
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = %s order by table_name, ordinal_position",
        (SCHEMA,),
    ).fetchall()
    held: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        held.setdefault(table, []).append((column, data_type))
    return held


def _column_differences(have: list[tuple[str, str]], want: list[tuple[str, str]]) -> list[str]:
    held, wanted = dict(have), dict(want)
    found = [f"missing column {c}" for c in wanted if c not in held]
    found += [f"unexpected column {c}" for c in held if c not in wanted]
    found += [
        f"column {c} is {held[c]}, not {t}" for c, t in wanted.items() if c in held and held[c] != t
    ]
    if not found:  # same columns and types, another order: `select *` would differ
        found = [f"columns in the order {[c for c, _ in have]}"]
    return found


def column_failures(held: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Relations whose columns (names, order, types) differ from their contract, one line each."""
    failures = []
    for relation in relations():
        have, want = held.get(relation.name), relation.pg_columns()
        if have is not None and have != want:
            failures.append(
                f"{SCHEMA}.{relation.name} does not match contract {relation.name} "
                f"{relation.contract_version}: {', '.join(_column_differences(have, want))}"
            )
    return failures


def _reader_role_exists(conn: psycopg.Connection) -> bool:
    row = conn.execute("select 1 from pg_roles where rolname = %s", (READER_ROLE,)).fetchone()
    return row is not None


def _is_complete(conn: psycopg.Connection) -> bool:
    held = held_columns(conn)
    wanted = {r.name for r in relations()} | {PUBLICATIONS, PUBLICATION_OBJECTS}
    return wanted <= set(held) and _reader_role_exists(conn)


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create the schema, its tables and the reader role where missing (idempotent, race-safe).

    Runs in its own transaction before a site's publication, so catalog locks taken by DDL never
    sit inside a publication's transaction. When everything exists it only reads the catalog.
    A relation whose columns no longer match its contract is an error: the table needs migrating
    (a contract's new major version), which a publisher must not do behind other sites' backs.
    """
    import psycopg

    if not _is_complete(conn):
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s, 0)", (LOCK_NAMESPACE,))
            conn.execute(f"create schema if not exists {SCHEMA}")
            for ddl in _LINEAGE_DDL:
                conn.execute(ddl)
            for relation in relations():
                conn.execute(relation.create_sql())
            if not _reader_role_exists(conn):
                # Roles are cluster-wide: another database's publisher may create it at the same
                # moment (the advisory lock is per database), so a duplicate is success.
                try:
                    with conn.transaction():
                        conn.execute(f"create role {READER_ROLE} nologin")
                except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                    pass
            conn.execute(f"grant usage on schema {SCHEMA} to {READER_ROLE}")
            conn.execute(f"grant select on all tables in schema {SCHEMA} to {READER_ROLE}")
            conn.execute(
                f"alter default privileges in schema {SCHEMA} grant select on tables to {READER_ROLE}"
            )
    failures = column_failures(held_columns(conn))
    if failures:
        raise SchemaMismatch("; ".join(failures))


class SchemaMismatch(RuntimeError):
    """A twin_published relation no longer has its contract's columns (it needs migrating)."""
