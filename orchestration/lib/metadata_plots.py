"""Small charts of a publication for the Dagster UI (PNG in Markdown metadata), so an engineer sees
at a glance what the twin published: capacity band per line, bottlenecks, OEE, data completeness,
the demand plan against capacity.

The figures come from the published tables themselves (column names per data_contracts/published).
Matplotlib's object API (no pyplot): no global state, safe in a run worker without a display.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import pandas as pd

# matplotlib costs ~0.2 s to import, the code location loads this module in every run process and
# few runs draw a chart: it is imported where a figure is made
if TYPE_CHECKING:
    from matplotlib.figure import Figure

BASELINE = "baseline"
WIDTH_IN, DPI = 7.5, 80


def markdown_image(figure: Figure, alt: str) -> str:
    """The figure as an inline PNG in Markdown (what Dagster's metadata renders)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return f"![{alt}](data:image/png;base64,{encoded})"


def _new_figure(**kwargs) -> Figure:
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _row_figure(rows: int) -> tuple[Figure, object]:
    """One axes sized to a chart with a labelled row per machine."""
    figure = _new_figure(figsize=(WIDTH_IN, max(1.8, 0.22 * rows + 0.8)))
    return figure, figure.subplots()


def _figure(rows: int = 1) -> tuple[Figure, list]:
    figure = _new_figure(figsize=(WIDTH_IN, 2.4 * rows))
    axes = figure.subplots(rows, 1, squeeze=False)[:, 0]
    return figure, list(axes)


def _baseline(frame: pd.DataFrame) -> pd.DataFrame:
    scenarios = sorted(set(frame["scenario_id"]))
    chosen = BASELINE if BASELINE in scenarios else scenarios[0]
    return frame[frame["scenario_id"] == chosen]


def capacity_fan(capacity: pd.DataFrame) -> Figure | None:
    """Weekly line capacity of the baseline scenario: the P10–P90 band around the P50."""
    rows = capacity[(capacity["resource_level"] == "line") & (capacity["bucket_grain"] == "week")]
    if rows.empty:
        return None
    wide = _baseline(rows).pivot_table(
        index=["line_id", "bucket_start"], columns="quantile", values="capacity_units"
    )
    lines = sorted(wide.index.get_level_values("line_id").unique())
    figure, axes = _figure(len(lines))
    for ax, line in zip(axes, lines, strict=True):
        weeks = wide.loc[line].sort_index()
        starts = pd.to_datetime(weeks.index)
        ax.fill_between(starts, weeks["p10"], weeks["p90"], alpha=0.3, label="P10–P90")
        ax.plot(starts, weeks["p50"], marker="o", markersize=3, label="P50")
        ax.set_title(f"{line}: weekly capacity (baseline)", fontsize=9, loc="left")
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    return figure


def bottleneck_shares(constraints: pd.DataFrame) -> Figure | None:
    """Share of simulated time each machine was its line's constraint (baseline, mean of weeks)."""
    weekly = constraints[constraints["bucket_grain"] == "week"]
    if weekly.empty:
        return None
    share = (
        _baseline(weekly)
        .groupby(["line_id", "machine_id"])["bottleneck_share"]
        .mean()
        .sort_values()
    )
    figure, ax = _row_figure(len(share))
    labels = [f"{line} {machine}" for line, machine in share.index]
    ax.barh(labels, share.to_numpy())
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of time as the line's bottleneck (baseline)", fontsize=8)
    ax.tick_params(labelsize=7)
    figure.tight_layout()
    return figure


STATUS_MARKERS = {"at_risk": ("o", "#d9822b"), "infeasible": ("X", "#c23030")}


def feasibility_chart(feasibility: pd.DataFrame) -> Figure | None:
    """The demand plan against the capacity band per line (baseline): at-risk weeks orange,
    infeasible weeks red, so the weeks a planner must act on stand out."""
    if feasibility.empty:
        return None
    rows = _baseline(feasibility)
    lines = sorted(set(rows["line_id"]))
    figure, axes = _figure(len(lines))
    for ax, line in zip(axes, lines, strict=True):
        weeks = rows[rows["line_id"] == line].sort_values("bucket_start")
        starts = pd.to_datetime(weeks["bucket_start"])
        ax.fill_between(
            starts, weeks["capacity_units_p10"], weeks["capacity_units_p90"], alpha=0.3,
            label="capacity P10–P90",
        )  # fmt: skip
        ax.plot(starts, weeks["capacity_units_p50"], label="capacity P50")
        ax.plot(starts, weeks["demand_units"], color="black", linestyle="--", label="demand")
        for status, (marker, color) in STATUS_MARKERS.items():
            flagged = weeks["status"] == status
            ax.scatter(
                starts[flagged], weeks.loc[flagged, "demand_units"], marker=marker, color=color,
                zorder=3, label=status.replace("_", " "),
            )  # fmt: skip
        ax.set_title(f"{line}: demand plan against capacity (baseline)", fontsize=9, loc="left")
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, ncols=5, loc="lower left")
    figure.tight_layout()
    return figure


def oee_trend(kpis: pd.DataFrame) -> Figure | None:
    """Daily OEE per line (the line rows of kpi_daily)."""
    lines = kpis[kpis["machine_id"].isna()]
    if lines.empty:
        return None
    figure, (ax,) = _figure()
    for line, days in lines.sort_values("date").groupby("line_id"):
        ax.plot(pd.to_datetime(days["date"]), days["oee"], marker="o", markersize=3, label=line)
    ax.set_ylim(0, 1)
    ax.set_title("OEE per line and day", fontsize=9, loc="left")
    ax.legend(fontsize=7, ncols=4, loc="lower left")
    ax.tick_params(labelsize=7)
    figure.tight_layout()
    return figure


def completeness_heatmap(kpis: pd.DataFrame) -> Figure | None:
    """Share of expected sensor samples delivered, per machine and day (red = data missing)."""
    machines = kpis[kpis["machine_id"].notna()]
    if machines.empty:
        return None
    grid = machines.pivot_table(
        index="machine_id", columns="date", values="data_completeness", aggfunc="mean"
    ).sort_index()
    figure, ax = _row_figure(len(grid))
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="RdYlGn", vmin=0.8, vmax=1.0)
    ax.set_yticks(range(len(grid)), grid.index, fontsize=6)
    days = [pd.Timestamp(d).strftime("%m-%d") for d in grid.columns]
    step = max(1, len(days) // 10)
    ax.set_xticks(range(0, len(days), step), days[::step], fontsize=6)
    ax.set_title("Sensor data completeness per machine and day", fontsize=9, loc="left")
    figure.colorbar(image, ax=ax, fraction=0.03)
    figure.tight_layout()
    return figure


def publication_charts(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Markdown images of a publication's tables, by metadata key (absent when a table is empty)."""
    charts = {
        "capacity_fan_chart": (capacity_fan, "capacity_supply", "capacity band per line"),
        "bottleneck_shares": (bottleneck_shares, "constraint_map", "bottleneck shares"),
        "oee_trend": (oee_trend, "kpi_daily", "OEE per line"),
        "data_completeness": (completeness_heatmap, "kpi_daily", "data completeness"),
        "feasibility_chart": (feasibility_chart, "capacity_feasibility", "demand against capacity"),
    }
    shown = {}
    for key, (draw, table, alt) in charts.items():
        if table not in tables:  # a publication made before the table existed
            continue
        figure = draw(tables[table])
        if figure is not None:
            shown[key] = markdown_image(figure, alt)
    return shown
