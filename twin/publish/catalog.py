"""Write one publication version: Parquet per table and view, and a self-contained catalog.duckdb.

The catalog holds the tables as real tables (not views over Parquet paths: a relative path in a view
resolves against the reader's working directory, so it breaks for readers elsewhere), the connector
views over them, and ``_publication``, an index of what the version holds. It is written with a
fresh connection to a new file and closed (checkpointed, no WAL left) before anyone renames it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from data_contracts import load_published_contract
from twin.files import fsync_file
from twin.publish.connectors import VIEWS
from twin.sql import quote_identifier, quote_string

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

CATALOG_NAME = "catalog.duckdb"


@dataclass(frozen=True)
class PublishedObject:
    """A table or connector view in a version, as the manifest and ``_publication`` list it."""

    name: str
    kind: str  # "table" or "view"
    contract_version: str
    rows: int
    parquet: str  # relative to the published/ root

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "contract_version": self.contract_version,
            "rows": self.rows,
            "parquet": self.parquet,
        }


def view_failures(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """Columns and types of a connector view against its contract (exact names, order and types)."""
    contract = load_published_contract(name)
    have = [
        (r[0], r[1].lower()) for r in con.execute(f"describe {quote_identifier(name)}").fetchall()
    ]
    want = [(c, spec["type"].lower()) for c, spec in contract["columns"].items()]
    return [] if have == want else [f"view {name}: columns {have}, contract says {want}"]


def write_version(
    folder: Path,
    relative_folder: str,
    tables: Mapping[str, pa.Table],
    *,
    publication_id: str,
    published_at: dt.datetime,
) -> tuple[list[PublishedObject], list[str]]:
    """Write Parquet files and ``catalog.duckdb`` into ``folder`` (a new, private directory).

    Returns what was written and the connector-view contract failures (empty when all conform).
    """
    import duckdb
    import pyarrow.parquet as pq

    objects: list[PublishedObject] = []
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
        version = str(load_published_contract(name)["version"])
        parquet = f"{relative_folder}/{name}.parquet"
        objects.append(PublishedObject(name, "table", version, table.num_rows, parquet))

    catalog = folder / CATALOG_NAME
    con = duckdb.connect(str(catalog))
    try:
        for name, table in tables.items():
            con.register("incoming", table)
            con.execute(f"create table {quote_identifier(name)} as select * from incoming")
            con.unregister("incoming")
        failures: list[str] = []
        for name, sql in VIEWS.items():
            view = quote_identifier(name)
            con.execute(f"create view {view} as {sql}")
            failures += view_failures(con, name)
            rows = con.execute(f"select count(*) from {view}").fetchone()[0]
            parquet_file = quote_string(folder / f"{name}.parquet")
            con.execute(f"copy (select * from {view}) to {parquet_file} (format parquet)")
            version = str(load_published_contract(name)["version"])
            parquet = f"{relative_folder}/{name}.parquet"
            objects.append(PublishedObject(name, "view", version, rows, parquet))
        con.execute(
            "create table _publication (name varchar, kind varchar, contract_version varchar,"
            " row_count bigint, parquet varchar, publication_id varchar, published_at timestamp)"
        )
        con.executemany(
            "insert into _publication values (?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    o.name,
                    o.kind,
                    o.contract_version,
                    o.rows,
                    o.parquet,
                    publication_id,
                    published_at,
                ]
                for o in objects
            ],
        )
        con.execute("checkpoint")
    finally:
        con.close()
    for path in folder.iterdir():
        fsync_file(path)
    return objects, failures
