"""The publication's charts for the Dagster UI: real PNGs of the published tables' content."""

import base64
import io
import re

import numpy as np
import pandas as pd
from matplotlib.image import imread

from orchestration.lib.metadata_plots import (
    bottleneck_shares,
    capacity_fan,
    feasibility_chart,
    oee_trend,
    publication_charts,
)
from tests.support.publication import make_tables


def _png(markdown: str) -> np.ndarray:
    match = re.fullmatch(r"!\[[^\]]+\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert match, markdown[:80]
    return imread(io.BytesIO(base64.b64decode(match.group(1))), format="png")


def test_every_chart_is_an_inline_png_with_content() -> None:
    charts = publication_charts(make_tables())
    assert set(charts) == {
        "capacity_fan_chart",
        "bottleneck_shares",
        "oee_trend",
        "data_completeness",
        "feasibility_chart",
    }
    for key, markdown in charts.items():
        image = _png(markdown)
        height, width = image.shape[:2]
        assert height > 100, key
        assert width > 300, key
        assert image[..., :3].std() > 0.05, f"{key} is blank"


def test_the_fan_chart_draws_one_panel_per_line_from_the_baseline() -> None:
    tables = make_tables()
    second_line = tables["capacity_supply"].assign(line_id="L2", resource_id="L2")
    capacity = pd.concat([tables["capacity_supply"], second_line])
    figure = capacity_fan(capacity)
    assert len(figure.axes) == 2
    p50 = figure.axes[0].lines[0].get_ydata()
    baseline = capacity[
        (capacity.line_id == "L1")
        & (capacity.resource_level == "line")
        & (capacity.scenario_id == "baseline")
        & (capacity["quantile"] == "p50")
    ].sort_values("bucket_start")
    assert list(p50) == list(baseline["capacity_units"])


def test_bottleneck_bars_are_the_mean_baseline_shares() -> None:
    figure = bottleneck_shares(make_tables()["constraint_map"])
    widths = sorted(bar.get_width() for bar in figure.axes[0].patches)
    assert widths == [0.3, 0.7]


def test_the_feasibility_chart_draws_demand_on_the_band_and_marks_the_weeks_to_act_on() -> None:
    feasibility = make_tables()["capacity_feasibility"]
    other = feasibility.assign(scenario_id="overtime", demand_units=1.0)  # never drawn
    feasibility.loc[feasibility.index[1], "status"] = "infeasible"
    figure = feasibility_chart(pd.concat([feasibility, other]))
    (ax,) = figure.axes
    p50, demand = (line.get_ydata() for line in ax.lines)
    assert list(p50) == list(feasibility["capacity_units_p50"])
    assert list(demand) == list(feasibility["demand_units"])
    at_risk, infeasible = (len(c.get_offsets()) for c in ax.collections[1:])
    assert (at_risk, infeasible) == (1, 1)  # one week of each, on the demand line


def test_a_publication_before_feasibility_existed_still_gets_its_charts() -> None:
    tables = make_tables()
    del tables["capacity_feasibility"]
    assert "feasibility_chart" not in publication_charts(tables)
    assert "capacity_fan_chart" in publication_charts(tables)


def test_empty_tables_give_no_chart_instead_of_an_error() -> None:
    tables = {name: frame.iloc[0:0] for name, frame in make_tables().items()}
    assert publication_charts(tables) == {}
    assert oee_trend(tables["kpi_daily"]) is None
