"""The planning tables, published as a new immutable version once their contracts pass; the backtest."""

import dagster as dg

from data_contracts import PUBLISHED_TABLES
from orchestration.lib.conditions import (
    publish_after_new_capacity,
    refresh_after_new_data,
)
from orchestration.lib.metadata_plots import publication_charts
from orchestration.lib.resources import TwinHome
from twin import warehouse
from twin.files import write_parquet_atomically
from twin.publish.accuracy import forecast_accuracy, summary, to_contract_table
from twin.publish.lineage import publication_lineage
from twin.publish.versions import publish, refresh_report


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
    tables = warehouse.read_publish_models(twin.paths, PUBLISHED_TABLES)
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


ACTUALS = "marts.fct_line_kpis_daily"


@dg.asset(
    key=["published", "capacity_forecast_accuracy"],
    group_name="publish",  # in publication_job by group: rebuilt after every publication
    deps=[
        dg.AssetKey(["marts", "fct_line_kpis_daily"]),
        dg.AssetKey(["published", "planning_tables"]),
    ],
    kinds={"pandas", "parquet"},
    owners=["team:capacity-planning"],
    automation_condition=refresh_after_new_data(),
)
def capacity_forecast_accuracy(twin: TwinHome) -> dg.MaterializeResult:
    """Published P10/P50/P90 per line and week against the actual good output once the week is complete (data_contracts/published/capacity_forecast_accuracy.yml)."""
    actual = warehouse.read_table(twin.paths, ACTUALS)
    accuracy = forecast_accuracy(
        twin.paths,
        actual[["line_id", "date", "good_qty"]],
        timezone=twin.plant().site.timezone,
    )
    target = twin.paths.published / "capacity_forecast_accuracy.parquet"
    write_parquet_atomically(to_contract_table(accuracy), target)
    refresh_report(twin.paths)  # the planners' page shows this backtest, not the previous one
    stats = summary(accuracy)
    metadata: dict = {
        "path": dg.MetadataValue.path(str(target)),
        "line_weeks": stats["line_weeks"],
    }
    if stats["line_weeks"]:
        metadata |= {
            # shares, e.g. 0.04 = a mean absolute error of 4 % of the P50
            "mean_abs_error_pct": stats["mean_abs_error_pct"],
            "bias_pct": stats["bias_pct"],
            "band_coverage": stats["band_coverage"],
            "weeks": dg.MetadataValue.json(sorted({str(w) for w in accuracy["week_start"]})),
        }
    return dg.MaterializeResult(metadata=metadata)
