"""The planning tables: contract-checked (blocking), then published as a new immutable version."""

import dagster as dg

from orchestration.lib.conditions import check_with_its_asset, publish_after_new_capacity
from orchestration.lib.metadata_plots import publication_charts
from orchestration.lib.resources import TwinHome
from twin import warehouse
from twin.publish.lineage import publication_lineage
from twin.publish.table_checks import check_table, provisional_stamp
from twin.publish.versions import publish

PUBLISHED_TABLES = ("capacity_supply", "machine_failure_risk", "kpi_daily", "constraint_map")


def _read_tables(twin: TwinHome, names: tuple[str, ...] = PUBLISHED_TABLES) -> dict:
    with warehouse.connect(twin.paths) as connection:
        return {name: connection.execute(f"select * from publish.{name}").df() for name in names}


def _contract_check(name: str) -> dg.AssetChecksDefinition:
    """One blocking check per table, so it runs in whichever run rebuilt that table."""

    @dg.asset_check(
        asset=dg.AssetKey(["publish", name]),
        name=f"{name}_contract",
        blocking=True,
        automation_condition=check_with_its_asset(),
        description=f"{name} satisfies its published contract (data_contracts/published/{name}.yml); "
        "while it fails, nothing is published and planners keep the previous version.",
    )
    def _check(twin: TwinHome) -> dg.AssetCheckResult:
        _, check = check_table(name, _read_tables(twin, (name,))[name], provisional_stamp())
        return dg.AssetCheckResult(
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

    return _check


published_table_contracts = [_contract_check(name) for name in PUBLISHED_TABLES]


@dg.asset(
    key=["published", "planning_tables"],
    group_name="publish",
    deps=[dg.AssetKey(["publish", name]) for name in PUBLISHED_TABLES],
    kinds={"duckdb", "parquet"},
    owners=["team:planning"],
    # KPIs and risk scores are refreshed ahead of the scenario batch that always follows them;
    # waiting for that batch publishes each landing once, with capacity from the new data.
    automation_condition=publish_after_new_capacity(
        dg.AssetSelection.assets(
            dg.AssetKey(["publish", "kpi_daily"]), dg.AssetKey(["publish", "machine_failure_risk"])
        )
    ),
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
            **{key: dg.MetadataValue.md(md) for key, md in publication_charts(tables).items()},
        }
    )
