"""Failure-model outcomes as Dagster metadata and check results: what a reviewer needs to see."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import dagster as dg
import pandas as pd

if TYPE_CHECKING:  # the training stack (sklearn, MLflow) loads only in runs that train
    from ml.pipeline import RetrainResult


SHOWN_METRICS = (
    "event_recall",
    "episode_precision",
    "precision",
    "pr_auc",
    "mean_lead_time_h",
    "false_alarms_per_machine_week",
    "brier",
    "ece",
    "n_test_failures",
)


def training_metadata(result: RetrainResult) -> dict:
    from ml.registry import gate_tag  # loaded already by the run that produced `result`

    metadata: dict = {
        "model_version": result.version or "none (fallback)",
        "gate": gate_tag(result.gate_passed),
        "notes": "; ".join(result.notes) or "",
        "data_window": dg.MetadataValue.json(result.data_window),
    }
    for name in SHOWN_METRICS:
        value = result.metrics.get(name)
        if value is not None and not math.isnan(float(value)):
            metadata[name] = float(value)
    return metadata


def gate_check_result(name: str, result: RetrainResult) -> dg.AssetCheckResult:
    if result.is_fallback:
        # Nothing to promote: too little failure history. Say so, without blocking the scoring.
        return dg.AssetCheckResult(
            check_name=name,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="no challenger: " + "; ".join(result.notes),
        )
    return dg.AssetCheckResult(
        check_name=name,
        passed=result.gate_passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=("challenger passed: " if result.gate_passed else "challenger refused: ")
        + "; ".join(result.gate_reasons),
        metadata={
            "challenger_version": result.version or "",
            "champion_version": result.champion_version or "none",
        },
    )


def markdown_table(frame: pd.DataFrame) -> str:
    """A small frame as a Markdown table (the UI renders it in the asset's metadata)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def risk_preview(table: pd.DataFrame, top: int = 10) -> dict:
    shown = table.head(top)[["machine_id", "p_failure_72h", "hours_to_failure_p50", "failure_mode"]]
    return {
        "machines": len(table),
        "machines_above_50pct": int((table["p_failure_72h"] >= 0.5).sum()),
        "highest_risks": dg.MetadataValue.md(markdown_table(shown.round(3))),
    }
