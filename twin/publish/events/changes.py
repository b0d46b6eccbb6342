"""What changed between two published versions: the facts behind each event type."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.publish.events.layout import (
    CAPACITY_CHANGED,
    FEASIBILITY_CHANGED,
    MANIFEST_NAME,
    PCT_TOLERANCE,
    PUBLICATION_CREATED,
    RISK_RAISED,
    RISK_THRESHOLD,
)

if TYPE_CHECKING:
    from twin.paths import TwinPaths


@dataclass(frozen=True)
class Version:
    """One complete published version, read from ``published/versions/<id>/`` (never the live files)."""

    root: Path  # the published/ folder
    publication_id: str
    manifest: dict[str, Any]

    def rows(self, table: str, columns: list[str]) -> list[dict[str, Any]]:
        """The table's rows (only ``columns``); empty when this version does not hold the table."""
        import pyarrow.parquet as pq

        entry = (self.manifest.get("tables") or {}).get(table)
        if entry is None:
            return []
        path = self.root / entry["parquet"]
        present = set(pq.read_schema(path).names)
        return pq.read_table(path, columns=[c for c in columns if c in present]).to_pylist()


def load_version(paths: TwinPaths, publication_id: str) -> Version:
    folder = paths.published / "versions" / publication_id
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    return Version(paths.published, publication_id, manifest)


@dataclass(frozen=True)
class Change:
    """One event before it becomes a CloudEvent; ``key`` (bucket, scenario) makes its id unique."""

    type: str
    subject: str
    data: dict[str, Any]
    key: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    change_pct: float  # TWIN_EVENT_CHANGE_PCT


# A detector compares the previous version (None for the first publication) with the new one.
Detector = Callable[["Version | None", Version, Rules], list[Change]]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _p50_weeks(version: Version) -> dict[tuple[str, str, str], dict[str, Any]]:
    columns = [
        "resource_id",
        "resource_level",
        "line_id",
        "bucket_grain",
        "bucket_start",
        "scenario_id",
        "quantile",
        "capacity_units",
        "uom",
        "is_partial",
    ]
    # A partial week (the rest of the week of the last data, capacity_supply 1.1.0) covers less
    # time in every new version: its P50 falls without anything having changed, so it is skipped.
    return {
        (str(r["resource_id"]), str(r["bucket_start"]), str(r["scenario_id"])): r
        for r in version.rows("capacity_supply", columns)
        if r.get("quantile") == "p50"
        and r.get("bucket_grain") == "week"
        and not r.get("is_partial")
    }


def capacity_changes(before: Version | None, after: Version, rules: Rules) -> list[Change]:
    """capacity.changed per resource × week × scenario whose P50 capacity_units moved enough.

    Only resource-weeks in both versions are compared: a week entering or leaving the horizon is
    not a change. From 0 to a positive capacity is a change with ``change_pct`` null (infinite).
    """
    if before is None:
        return []
    old, new = _p50_weeks(before), _p50_weeks(after)
    changes = []
    for key in sorted(old.keys() & new.keys()):
        p50_before = _number(old[key]["capacity_units"])
        p50_after = _number(new[key]["capacity_units"])
        if p50_before is None or p50_after is None or p50_before == p50_after:
            continue
        if p50_before == 0:
            pct = None
        else:
            pct = (p50_after - p50_before) / abs(p50_before) * 100.0
            if abs(pct) < rules.change_pct - PCT_TOLERANCE:
                continue
        resource_id, bucket_start, scenario_id = key
        row = new[key]
        changes.append(
            Change(
                CAPACITY_CHANGED,
                resource_id,
                {
                    "bucket_start": bucket_start,
                    "scenario_id": scenario_id,
                    "p50_before": p50_before,
                    "p50_after": p50_after,
                    "change_pct": None if pct is None else round(pct, 3),
                    "resource_level": row.get("resource_level"),
                    "line_id": row.get("line_id"),
                    "bucket_grain": row.get("bucket_grain"),
                    "uom": row.get("uom"),
                    "threshold_pct": rules.change_pct,
                    "previous_publication_id": before.publication_id,
                },
                key=(bucket_start, scenario_id),
            )
        )
    return changes


def risk_raised(before: Version | None, after: Version, rules: Rules) -> list[Change]:
    """machine.risk_raised when a machine's p_failure_72h goes from below 0.5 to 0.5 or more.

    A machine must be in both versions: with no earlier figure there is no crossing.
    """
    if before is None:
        return []
    columns = ["machine_id", "p_failure_72h", "failure_mode", "as_of", "model_version"]
    old = {str(r["machine_id"]): r for r in before.rows("machine_failure_risk", columns)}
    changes = []
    for row in sorted(after.rows("machine_failure_risk", columns), key=lambda r: r["machine_id"]):
        machine = str(row["machine_id"])
        p_before = _number((old.get(machine) or {}).get("p_failure_72h"))
        p_after = _number(row.get("p_failure_72h"))
        if p_before is None or p_after is None:
            continue
        if p_before < RISK_THRESHOLD <= p_after:
            as_of = row.get("as_of")
            changes.append(
                Change(
                    RISK_RAISED,
                    machine,
                    {
                        "p_failure_72h_before": p_before,
                        "p_failure_72h_after": p_after,
                        "failure_mode": row.get("failure_mode"),
                        "threshold": RISK_THRESHOLD,
                        "as_of": None if as_of is None else str(as_of),
                        "model_version": row.get("model_version"),
                        "previous_publication_id": before.publication_id,
                    },
                )
            )
    return changes


def feasibility_changes(before: Version | None, after: Version, rules: Rules) -> list[Change]:
    """feasibility.changed per line × week × scenario whose status moved (e.g. at_risk → infeasible).

    Only line-weeks in both versions are compared (a week entering the horizon, or a plan's first
    publication, is not a change); a new plan version that changes a status is one.
    """
    del rules  # a status change is always news: no threshold
    if before is None:
        return []
    columns = [
        "line_id",
        "bucket_start",
        "scenario_id",
        "status",
        "p_meet_demand",
        "plan_version",
        "demand_units",
    ]

    def by_key(version: Version) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {
            (str(r["line_id"]), str(r["bucket_start"]), str(r["scenario_id"])): r
            for r in version.rows("capacity_feasibility", columns)
        }

    old, new = by_key(before), by_key(after)
    changes = []
    for key in sorted(old.keys() & new.keys()):
        if old[key]["status"] == new[key]["status"]:
            continue
        line_id, bucket_start, scenario_id = key
        changes.append(
            Change(
                FEASIBILITY_CHANGED,
                line_id,
                {
                    "bucket_start": bucket_start,
                    "scenario_id": scenario_id,
                    "status_before": old[key]["status"],
                    "status_after": new[key]["status"],
                    "p_meet_demand_before": _number(old[key]["p_meet_demand"]),
                    "p_meet_demand_after": _number(new[key]["p_meet_demand"]),
                    "plan_version": new[key]["plan_version"],
                    "demand_units": _number(new[key]["demand_units"]),
                    "previous_publication_id": before.publication_id,
                },
                key=(bucket_start, scenario_id),
            )
        )
    return changes


DETECTORS: tuple[Detector, ...] = (capacity_changes, feasibility_changes, risk_raised)


def publication_created(before: Version | None, after: Version) -> Change:
    """publication.created: the manifest's lineage summary."""
    manifest = after.manifest
    data = manifest.get("data") or {}
    return Change(
        PUBLICATION_CREATED,
        after.publication_id,
        {
            "publication_id": after.publication_id,
            "published_at": manifest.get("published_at"),
            "previous_publication_id": None if before is None else before.publication_id,
            "model_version": manifest.get("model_version"),
            "data_window": data.get("window"),
            "capacity_horizon": data.get("capacity_horizon"),
            "scenario_set": manifest.get("scenario_set"),
            "scenarios": manifest.get("scenarios"),
            "batch_count": (data.get("batches") or {}).get("count"),
        },
    )
