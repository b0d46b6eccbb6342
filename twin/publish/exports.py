"""Files a planning system can load, written into a publication version (DESIGN §3.4; no Dagster).

``write_exports(version_dir, tables, plant)`` writes ``<version_dir>/exports/``:

- ``ibp_capasupply.csv`` (SAP IBP key figure upload): CAPASUPPLY per line resource, location and
  week, one IBP version per quantile (``connectors.IBP_VERSIONS``), baseline scenario;
- ``kinaxis_constraint_available.tsv`` (Kinaxis RapidResponse): p50 capacity per line and **day**
  for every scenario, from the ``day`` buckets of capacity_supply (a day without shifts is 0; a
  weekly rate is never spread over the days);
- ``o9_resource_capacity.csv`` (o9): one row per resource, location and week of the baseline, one
  column per measure (wide), the same figures as the long view ``o9_resource_capacity``;
- ``index.json``: every file above with its system, columns, row count and SHA-256, and the files
  left out with the reason (``skipped``).

Each file is UTF-8 (no BOM), has one header row, ISO dates (``YYYY-MM-DD``), no index column, fixed
point numbers (6 decimals, no exponent), rows sorted by their key, one row per key: the same tables
give byte-identical files. Each is written through a temporary sibling and renamed into place
(``twin.files.write_text_atomically``). Formats and their sources: data_contracts/README.md,
"Export files".
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from twin.files import write_text_atomically
from twin.publish.connectors import BASELINE_SCENARIO, IBP_VERSIONS

if TYPE_CHECKING:
    import pyarrow as pa

    from twin.plant.model import Plant

EXPORTS_DIR = "exports"
INDEX_NAME = "index.json"
IBP_FILE = "ibp_capasupply.csv"
KINAXIS_FILE = "kinaxis_constraint_available.tsv"
O9_FILE = "o9_resource_capacity.csv"

QUANTILES = tuple(IBP_VERSIONS)  # p10, p50, p90
# IBP names a time column after the periodicity level of the key figure's planning level: week is
# PERIODID4 in SAP's unified planning area time profile (day 0, week 4, month 3, quarter 2, year 1).
IBP_PERIOD_COLUMN = "PERIODID4_TSTAMP"
IBP_COLUMNS = ("RESID", "LOCID", IBP_PERIOD_COLUMN, "VERSIONID", "UOMTOID", "CAPASUPPLY")
KINAXIS_COLUMNS = ("Constraint", "Site", "Date", "Quantity", "Scenario")
O9_MEASURES = {
    **{f"Available Hours {q.upper()}": ("available_hours", q) for q in QUANTILES},
    **{f"Capacity Units {q.upper()}": ("capacity_units", q) for q in QUANTILES},
}
O9_COLUMNS = ("Resource", "Location", "Time", "Scenario", *O9_MEASURES)

IBP_KEY = ("RESID", "LOCID", IBP_PERIOD_COLUMN, "VERSIONID")
KINAXIS_KEY = ("Constraint", "Site", "Date", "Scenario")
O9_KEY = ("Resource", "Location", "Time", "Scenario")

_DECIMALS = 6


class ExportError(ValueError):
    """The tables cannot be exported as they are (never written half: nothing of the file lands)."""


def write_exports(
    version_dir: Path,
    tables: Mapping[str, pd.DataFrame | pa.Table],
    plant: Plant | None,
) -> list[Path]:
    """Write the planning-system files into ``<version_dir>/exports/``; returns the paths written.

    Call it on the private staging folder of a version, before that folder is renamed into place,
    so the files are part of the immutable version. ``plant`` (when given) pins the site and the
    lines: rows of another site or of a line the plant does not know are an error. Every p50
    line-week must be covered by day buckets (Kinaxis gets days, never a weekly rate spread over
    seven days); tables with no day buckets at all get no Kinaxis file, and ``index.json`` says why
    under ``skipped``. Raises ExportError before anything is written when a file would break its format
    (negative or non-finite values, a duplicate key, a tab inside a TSV field).
    """
    supply = _capacity_frame(tables)
    if plant is not None:
        _check_plant(supply, plant)
    files = {IBP_FILE: ("SAP IBP", ",", IBP_COLUMNS, IBP_KEY, _ibp_rows(supply))}
    skipped: dict[str, str] = {}
    if (supply["bucket_grain"] == "day").any():
        _check_days(supply)
        files[KINAXIS_FILE] = (
            "Kinaxis", "\t", KINAXIS_COLUMNS, KINAXIS_KEY, _kinaxis_rows(supply)
        )  # fmt: skip
    else:
        # Only day buckets make the Kinaxis file; a weekly rate is never spread over the days.
        skipped[KINAXIS_FILE] = "capacity_supply has no day buckets"
    files[O9_FILE] = ("o9", ",", O9_COLUMNS, O9_KEY, _o9_rows(supply))
    rendered = {
        name: (system, columns, len(rows), _render(name, delimiter, columns, key, rows))
        for name, (system, delimiter, columns, key, rows) in files.items()
    }  # everything rendered and checked before the first file is written

    folder = version_dir / EXPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    index: dict[str, Any] = {}
    for name, (system, columns, rows, text) in rendered.items():
        path = folder / name
        write_text_atomically(path, text, durable=True)
        written.append(path)
        index[name] = {
            "system": system,
            "columns": list(columns),
            "rows": rows,
            "bytes": len(text.encode("utf-8")),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        }
    index_path = folder / INDEX_NAME
    payload = {"files": index, "skipped": skipped}
    write_text_atomically(index_path, json.dumps(payload, indent=2) + "\n", durable=True)
    written.append(index_path)
    return written


def read_index(version_dir: Path) -> dict[str, Any]:
    """``exports/index.json`` of a version: file name -> system, columns, rows, bytes, sha256
    (files left out, with the reason, are under the index's ``skipped``)."""
    text = (version_dir / EXPORTS_DIR / INDEX_NAME).read_text(encoding="utf-8")
    return json.loads(text)["files"]


# -- the three shapes ------------------------------------------------------------------------------


def _ibp_rows(supply: pd.DataFrame) -> list[tuple]:
    rows = supply[
        (supply["resource_level"] == "line")
        & (supply["bucket_grain"] == "week")
        & (supply["scenario_id"] == BASELINE_SCENARIO)
    ]
    return [
        (
            r.resource_id,
            r.site_id,
            _monday(r.bucket_start),
            IBP_VERSIONS[r.quantile],
            r.uom,
            _number(r.capacity_units, "CAPASUPPLY"),
        )
        for r in rows.itertuples(index=False)
    ]


def _kinaxis_rows(supply: pd.DataFrame) -> list[tuple]:
    rows = supply[
        (supply["resource_level"] == "line")
        & (supply["bucket_grain"] == "day")
        & (supply["quantile"] == "p50")
    ]
    return [
        (
            r.resource_id,
            r.site_id,
            r.bucket_start.isoformat(),
            _number(r.capacity_units, "Quantity"),
            r.scenario_id,
        )
        for r in rows.itertuples(index=False)
    ]


def _o9_rows(supply: pd.DataFrame) -> list[tuple]:
    weeks = supply[
        (supply["bucket_grain"] == "week") & (supply["scenario_id"] == BASELINE_SCENARIO)
    ]
    cells: dict[tuple, dict[str, str]] = {}
    for r in weeks.itertuples(index=False):
        key = (r.resource_id, r.site_id, _monday(r.bucket_start), r.scenario_id)
        measures = cells.setdefault(key, {})
        for measure, (column, quantile) in O9_MEASURES.items():
            if r.quantile != quantile:
                continue
            if measure in measures:
                raise ExportError(f"{O9_FILE}: two rows for {key} and measure {measure!r}")
            measures[measure] = _number(getattr(r, column), measure)
    rows = []
    for key, measures in cells.items():
        missing = [m for m in O9_MEASURES if m not in measures]
        if missing:
            raise ExportError(f"{O9_FILE}: {key} has no {', '.join(missing)}")
        rows.append(key + tuple(measures[m] for m in O9_MEASURES))
    return rows


# -- checks and rendering --------------------------------------------------------------------------


def _capacity_frame(tables: Mapping[str, Any]) -> pd.DataFrame:
    table = tables.get("capacity_supply")
    if table is None:
        raise ExportError("no capacity_supply table to export")
    frame = table if isinstance(table, pd.DataFrame) else table.to_pandas()
    frame = frame.copy()
    for column in ("bucket_start", "bucket_end"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    for column in ("site_id", "resource_id", "resource_level", "bucket_grain", "scenario_id"):
        frame[column] = frame[column].astype(str)
    frame["uom"] = frame["uom"].astype(str)
    return frame


def _check_plant(supply: pd.DataFrame, plant: Plant) -> None:
    other = sorted(set(supply["site_id"]) - {plant.site.id})
    if other:
        raise ExportError(f"capacity_supply has rows of site(s) {other}, plant is {plant.site.id}")
    lines = set(supply.loc[supply["resource_level"] == "line", "resource_id"])
    unknown = sorted(lines - {line.id for line in plant.lines})
    if unknown:
        raise ExportError(f"capacity_supply has line(s) {unknown} the plant does not know")


def _check_days(supply: pd.DataFrame) -> None:
    """Every p50 line-week must be covered by p50 day buckets: Kinaxis gets days, never a weekly
    rate spread over seven days (a day without shifts is a 0 row of the simulation, not a gap)."""
    p50 = supply[(supply["resource_level"] == "line") & (supply["quantile"] == "p50")]
    days = set(
        p50.loc[
            p50["bucket_grain"] == "day", ["resource_id", "scenario_id", "bucket_start"]
        ].itertuples(index=False, name=None)
    )
    # the horizon's first week is covered only from its first day (the last data time)
    first = {}
    for resource, scenario, day in days:
        first[(resource, scenario)] = min(first.get((resource, scenario), day), day)
    for r in p50[p50["bucket_grain"] == "week"].itertuples(index=False):
        since = max(r.bucket_start, first.get((r.resource_id, r.scenario_id), r.bucket_start))
        missing = [
            (since + dt.timedelta(days=i)).isoformat()
            for i in range((r.bucket_end - since).days)
            if (r.resource_id, r.scenario_id, since + dt.timedelta(days=i)) not in days
        ]
        if missing:
            raise ExportError(
                f"{KINAXIS_FILE}: line {r.resource_id}, scenario {r.scenario_id} has no day"
                f" buckets for {', '.join(missing)} (a weekly rate is not spread over the days)"
            )


def _render(
    name: str,
    delimiter: str,
    columns: Sequence[str],
    key: Sequence[str],
    rows: Iterable[tuple],
) -> str:
    positions = [columns.index(k) for k in key]
    rows = sorted(rows, key=lambda row: (tuple(row[i] for i in positions), row))
    seen: set[tuple] = set()
    for row in rows:
        k = tuple(row[i] for i in positions)
        if k in seen:
            raise ExportError(f"{name}: more than one row for {dict(zip(key, k, strict=True))}")
        seen.add(k)
    buffer = io.StringIO(newline="")
    if delimiter == "\t":
        # text/tab-separated-values has no quoting: a field holding a tab or line break is refused.
        bad = [v for row in rows for v in row if any(c in str(v) for c in "\t\r\n")]
        if bad:
            raise ExportError(f"{name}: field(s) {bad[:3]} hold a tab or line break")
        writer = csv.writer(buffer, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n")
    else:
        writer = csv.writer(buffer, delimiter=",", lineterminator="\r\n")  # RFC 4180
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _number(value: Any, what: str) -> str:
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise ExportError(f"{what} must be a finite number >= 0, got {value!r}")
    return f"{x + 0.0:.{_DECIMALS}f}"


def _monday(day: dt.date) -> str:
    return (day - dt.timedelta(days=day.weekday())).isoformat()
