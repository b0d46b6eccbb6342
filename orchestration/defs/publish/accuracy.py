"""The twin's backtest: published weekly capacity against the line output that then happened."""

import dagster as dg

from orchestration.lib.conditions import refresh_after_new_data
from orchestration.lib.resources import TwinHome
from twin import warehouse
from twin.files import write_parquet_atomically
from twin.publish.accuracy import forecast_accuracy, summary, to_contract_table
from twin.publish.versions import refresh_report

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
