"""Ingest outcomes as Dagster check results: what failed and where, visible in the UI."""

from __future__ import annotations

import dagster as dg

from orchestration.lib.gx_checks import SuiteOutcome


def contract_check_result(name: str, audit: dict, contract: SuiteOutcome | None) -> dg.AssetCheckResult:
    """Pass when GX validated the loaded rows; a quarantined file fails with its reason."""
    if contract is None:
        return dg.AssetCheckResult(
            check_name=name,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"status": audit["status"], "reason": audit.get("reason") or "not validated"},
        )
    return dg.AssetCheckResult(
        check_name=name,
        passed=contract.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "expectations_evaluated": contract.evaluated,
            "expectations_failed": dg.MetadataValue.json(list(contract.failed)),
            "rows_rejected": audit["rows_rejected"],
            "reject_reason": audit.get("reason") or "",
        },
    )


def completeness_check_result(name: str, completeness) -> dg.AssetCheckResult:
    """Pass when every tag reached the threshold; metadata lists the tags that did not."""
    if completeness is None:
        return dg.AssetCheckResult(
            check_name=name, passed=False, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"reason": "the batch was not loaded, so completeness is unknown"},
        )
    failing = completeness.failing_tags
    return dg.AssetCheckResult(
        check_name=name,
        passed=completeness.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "threshold": completeness.threshold,
            "tags_checked": completeness.tags_checked,
            "tags_below_threshold": len(failing),
            "worst_tags": dg.MetadataValue.json(failing),
        },
    )
