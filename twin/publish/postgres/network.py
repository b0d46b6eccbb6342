"""Many plants, one planning picture: the capacity report for every site PostgreSQL holds.

Each plant's deployment publishes its own site into ``twin_published`` (writer.py); this reads all
sites' tables in one REPEATABLE READ transaction (one snapshot: a site republishing meanwhile shows
whole, old or new) and renders the same page as the single-site report (twin/publish/report/). Two
plants may both have a line ``L1``, so line, machine and resource ids are shown qualified by their
site (``PLANT1/L1``); a section ahead of the others lists each site's publication.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from twin.files import write_text_atomically
from twin.publish.postgres.connection import PostgresPublicationError, connect, safe_reason
from twin.publish.postgres.schema import PUBLICATIONS, SCHEMA, quote_ident, relations
from twin.publish.report.charts import esc, fmt_number, table, td
from twin.publish.report.page import build_report
from twin.settings import redact_url

if TYPE_CHECKING:
    import psycopg

QUALIFIED_COLUMNS = ("line_id", "machine_id", "resource_id")
SITE_SEPARATOR = "/"


@dataclass(frozen=True)
class NetworkPublication:
    """Every site's current publication as PostgreSQL holds it, read from one snapshot."""

    sites: pd.DataFrame  # site_id, publication_id, published_at, model_version, manifest
    tables: dict[str, pd.DataFrame]  # published tables, all sites' rows

    @property
    def site_ids(self) -> list[str]:
        return sorted(self.sites["site_id"])

    def manifest(self) -> dict[str, Any]:
        """A manifest for the report header: the network's span over its sites' manifests."""
        manifests = list(self.sites["manifest"])
        windows = [(m.get("data") or {}).get("window") or {} for m in manifests]
        horizons = [(m.get("data") or {}).get("capacity_horizon") or {} for m in manifests]
        scenarios = sorted({s for m in manifests for s in (m.get("scenarios") or [])})
        return {
            "publication_id": f"network of {len(manifests)} sites",
            "published_at": max((str(m.get("published_at", "")) for m in manifests), default=""),
            "model_version": ", ".join(sorted({str(v) for v in self.sites["model_version"]})),
            "scenario_set": scenarios,
            "data": {"window": _span(windows), "capacity_horizon": _span(horizons)},
        }


def _span(spans: list[dict[str, Any]]) -> dict[str, str] | None:
    starts = [str(s["start"]) for s in spans if s.get("start")]
    ends = [str(s["end"]) for s in spans if s.get("end")]
    return {"start": min(starts), "end": max(ends)} if starts and ends else None


def _frame(conn: psycopg.Connection, relation) -> pd.DataFrame:
    columns = [c for c, _ in relation.columns]
    select = ", ".join(quote_ident(c) for c in columns)
    with conn.cursor() as cursor:
        rows = cursor.execute(f"select {select} from {relation.qualified}").fetchall()
    frame = pd.DataFrame(rows, columns=columns)
    for column, kind in relation.columns:  # the report parses dates itself; keep numbers numeric
        if kind in {"double", "integer", "bigint"}:
            frame[column] = pd.to_numeric(frame[column])
    return frame


def read_network(url: str) -> NetworkPublication:
    """All sites' published tables from ``url``; raises PostgresPublicationError when none is there."""
    import psycopg

    with connect(url) as conn:
        try:
            with conn.transaction():
                conn.execute("set transaction isolation level repeatable read, read only")
                sites = conn.execute(
                    f"select site_id, publication_id, published_at, model_version, manifest"
                    f" from {SCHEMA}.{PUBLICATIONS} order by site_id"
                ).fetchall()
                tables = {r.name: _frame(conn, r) for r in relations() if r.kind == "table"}
        except psycopg.errors.UndefinedTable:
            sites = []
        except psycopg.Error as error:
            raise PostgresPublicationError(
                f"cannot read the network's publications from {redact_url(url)}: "
                f"{safe_reason(error, url)}."
            ) from None
    if not sites:
        raise PostgresPublicationError(
            f"no site has published into {SCHEMA} yet: run `twin run` with TWIN_PUBLISH_POSTGRES set."
        )
    columns = ["site_id", "publication_id", "published_at", "model_version", "manifest"]
    return NetworkPublication(pd.DataFrame(sites, columns=columns), tables)


def qualified_by_site(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Line, machine and resource ids prefixed with their site, so equal ids stay apart."""
    result = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for column in QUALIFIED_COLUMNS:
            if column in frame and "site_id" in frame:
                known = frame[column].notna()
                frame.loc[known, column] = (
                    frame.loc[known, "site_id"].astype(str)
                    + SITE_SEPARATOR
                    + frame.loc[known, column].astype(str)
                )
        result[name] = frame
    return result


def sites_section(network: NetworkPublication) -> str:
    capacity = network.tables["capacity_supply"]
    lines = capacity[capacity["resource_level"] == "line"].groupby("site_id")["line_id"].nunique()
    rows = [
        [
            esc(site.site_id),
            td(esc(site.publication_id), "text"),
            td(esc(f"{pd.Timestamp(site.published_at):%Y-%m-%d %H:%M}"), "text"),
            td(esc(site.model_version), "text"),
            td(fmt_number(lines.get(site.site_id, 0))),
        ]
        for site in network.sites.itertuples()
    ]
    caption = f"{len(rows)} sites publish into PostgreSQL; each row is the publication it holds for the site"
    html_table = table(
        caption,
        ["site", "publication", "published at (UTC)", "model version", "lines"],
        rows,
        left={1, 2, 3},
    )
    return f'<section id="network-sites"><h2>Sites in this picture</h2>{html_table}</section>'


def build_network_report(network: NetworkPublication) -> str:
    """The capacity report over every site: the single-site sections on site-qualified ids."""
    return build_report(
        qualified_by_site(network.tables),
        network.manifest(),
        None,  # the forecast backtest stays per site (published/capacity_forecast_accuracy.parquet)
        lead_sections=[sites_section(network)],
    )


def write_network_report(url: str, target: Path) -> NetworkPublication:
    """Read every site from ``url`` and write the network report to ``target`` (atomically)."""
    network = read_network(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(target, build_network_report(network))
    return network


def default_target(home: Path) -> Path:
    """Where ``twin report --network`` writes without ``--out``: next to the site's publication."""
    return home / "published" / "network_report.html"
