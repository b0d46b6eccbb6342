"""The planning tables: contract-checked (blocking), then published as a new immutable version."""

import dagster as dg

from orchestration.lib import warehouse
from orchestration.lib.lineage import publication_lineage
from orchestration.lib.publication import publish
from orchestration.lib.resources import TwinHome
from orchestration.lib.table_checks import check_tables

PUBLISHED_TABLES = ("capacity_supply", "machine_failure_risk", "kpi_daily", "constraint_map")


def _read_tables(twin: TwinHome) -> dict:
    with warehouse.connect(twin.paths) as connection:
        return {
            name: connection.execute(f"select * from publish.{name}").df()
            for name in PUBLISHED_TABLES
        }


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            f"{name}_contract",
            asset=dg.AssetKey(["publish", name]),
            blocking=True,
            description=f"{name} satisfies its published contract (data_contracts/published/{name}.yml).",
        )
        for name in PUBLISHED_TABLES
    ]
)
def published_table_contracts(twin: TwinHome):
    """Run every published table's contract before anything reaches the planning systems."""
    tables = _read_tables(twin)
    for check in check_tables(tables):
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey(["publish", check.table]),
            check_name=f"{check.table}_contract",
            passed=check.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description="contract satisfied"
            if check.passed
            else "not published: " + "; ".join(check.failures[:5]),
            metadata={
                "contract_version": check.contract_version,
                "rows": check.rows,
                "expectations_evaluated": check.evaluated,
                "failures": dg.MetadataValue.json(list(check.failures)),
            },
        )


@dg.asset(
    key=["published", "planning_tables"],
    group_name="publish",
    deps=[dg.AssetKey(["publish", name]) for name in PUBLISHED_TABLES],
    kinds={"duckdb", "parquet"},
    owners=["team:planning"],
)
def planning_tables(twin: TwinHome) -> dg.MaterializeResult:
    """A new immutable version of the capacity tables for SAP IBP, Kinaxis, o9 or any table reader; catalog.duckdb switches to it atomically."""
    tables = _read_tables(twin)
    publication = publish(twin.paths, tables, publication_lineage(twin.paths, tables))
    manifest = publication.manifest
    return dg.MaterializeResult(
        metadata={
            "publication_id": publication.publication_id,
            "catalog": dg.MetadataValue.path(str(publication.catalog)),
            "model_version": str(manifest.get("model_version", "")),
            **{f"rows_{name}": len(frame) for name, frame in tables.items()},
        }
    )
