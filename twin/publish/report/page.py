"""The capacity report: one self-contained HTML page per publication, for planners and plant managers.

``build_report`` turns the published tables into a page with inline CSS and inline SVG only, so it
opens from a file share or an e-mail attachment with no server and no internet; the sections are
built in twin/publish/report/sections.py. ``write_report`` is called by the publication under its
writer lock, so ``published/report.html`` always describes the version ``catalog.duckdb`` holds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from data_contracts import PUBLISHED_TABLES
from twin.files import write_text_atomically
from twin.publish.report.charts import CSS, esc
from twin.publish.report.feasibility import feasibility_section
from twin.publish.report.prediction_effect import prediction_effect_section
from twin.publish.report.risk_drivers import risk_drivers_section
from twin.publish.report.sections import (
    BASELINE,
    accuracy_section,
    baseline_scenario,
    bottleneck_section,
    capacity_section,
    completeness_section,
    line_weeks,
    page_header,
    risk_section,
    scenario_section,
)

if TYPE_CHECKING:
    from twin.paths import TwinPaths
    from twin.publish.publication import Publication

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"
ACCURACY_TABLE = "capacity_forecast_accuracy"  # optional; published once actuals exist
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def build_report(
    tables: Mapping[str, pd.DataFrame],
    manifest: Mapping[str, Any],
    accuracy: pd.DataFrame | None,
    *,
    lead_sections: Sequence[str] = (),
) -> str:
    """The whole page for one publication: published tables, its manifest, optional accuracy frame.

    ``lead_sections`` (HTML, already escaped) come first: the network report lists its sites there.
    """
    weeks = line_weeks(tables["capacity_supply"])
    baseline = baseline_scenario(weeks["scenario_id"]) if len(weeks) else BASELINE
    sections = [
        *lead_sections,
        capacity_section(weeks, baseline),
        feasibility_section(tables.get("capacity_feasibility"), baseline),
        scenario_section(weeks, baseline),
        prediction_effect_section(tables.get("prediction_effect")),
        bottleneck_section(tables["constraint_map"], baseline),
        risk_section(tables["machine_failure_risk"]),
        risk_drivers_section(tables["machine_failure_risk"]),
        completeness_section(tables["kpi_daily"]),
        accuracy_section(accuracy),
    ]
    title = f"Capacity report {manifest.get('publication_id', '')}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # The browser itself refuses anything from elsewhere, even if a later edit adds a link.
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"{page_header(tables, manifest)}<main>{''.join(sections)}</main></body></html>\n"
    )


def _read_version(version_dir: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    import pyarrow.parquet as pq

    # a version from before a table existed (prediction_effect) lacks its file: its section says so
    tables = {
        name: pq.read_table(version_dir / f"{name}.parquet").to_pandas()
        for name in PUBLISHED_TABLES
        if (version_dir / f"{name}.parquet").is_file()
    }
    # The backtest of past weeks is refreshed after each publication (published/<table>.parquet);
    # a version's own copy, when present, wins so an old version's report stays as it was.
    candidates = [
        version_dir / f"{ACCURACY_TABLE}.parquet",
        version_dir.parent.parent / f"{ACCURACY_TABLE}.parquet",
    ]
    accuracy_file = next((f for f in candidates if f.is_file()), None)
    accuracy = pq.read_table(accuracy_file).to_pandas() if accuracy_file else None
    return tables, accuracy


def write_report(paths: TwinPaths, publication: Publication) -> Path:
    """Write ``published/report.html`` for the version that just became current.

    The version folder keeps the report as first published (``versions/<id>/report.html``); the live
    page is rebuilt on every switch so a rollback says so. The switch has already happened when this
    runs, so a report that cannot be built must not fail the publication: the live page then says
    plainly that it is missing and why, instead of showing the previous version's numbers.
    """
    target = paths.published / REPORT_NAME
    try:
        tables, accuracy = _read_version(publication.version_dir)
        page = build_report(tables, publication.manifest, accuracy)
        kept = publication.version_dir / REPORT_NAME
        if not kept.exists():
            write_text_atomically(kept, page)
            kept.chmod(0o444)
    except Exception as error:
        log.exception("capacity report for %s could not be built", publication.publication_id)
        page = (
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Capacity report</title></head>"
            f"<body><h1>Capacity report unavailable</h1><p>Publication {esc(publication.publication_id)} is "
            f"current, but its report could not be built: {esc(type(error).__name__)}: {esc(error)}</p></body></html>\n"
        )
    write_text_atomically(target, page)
    return target
