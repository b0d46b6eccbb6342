"""What a publication was made from: input batches, data window, model version, scenario set."""

from __future__ import annotations

from typing import Any

import pandas as pd

from twin.ingest.batch_load import read_audit
from twin.paths import TwinPaths


def publication_lineage(paths: TwinPaths, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    audit = [r for r in read_audit(paths) if r["status"] != "quarantined"]
    kpis = tables["kpi_daily"]
    risk = tables["machine_failure_risk"]
    versions = sorted(set(risk["model_version"].dropna().astype(str))) if len(risk) else []
    return {
        "batch_ids": [r["batch_id"] for r in audit],
        "data_window": {
            "start": str(pd.to_datetime(kpis["date"]).min().date()) if len(kpis) else None,
            "end": str(pd.to_datetime(kpis["date"]).max().date()) if len(kpis) else None,
        },
        "model_version": versions[0] if len(versions) == 1 else ", ".join(versions) or "none",
        "scenario_set": sorted(set(tables["capacity_supply"]["scenario_id"].astype(str))),
    }
