"""Ingest outcomes as Dagster check results: what failed and where, visible in the UI."""

from __future__ import annotations

import dagster as dg

from data_contracts.validation import SuiteOutcome
from twin.ingest.completeness import BLOCKING_SHARE_OF_TAGS


def contract_check_result(
    name: str, audit: dict, contract: SuiteOutcome | None
) -> dg.AssetCheckResult:
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
            check_name=name,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"reason": "the batch was not loaded, so completeness is unknown"},
        )
    material = completeness.material
    return dg.AssetCheckResult(
        check_name=name,
        passed=completeness.passed,
        severity=dg.AssetCheckSeverity.ERROR if material else dg.AssetCheckSeverity.WARN,
        description=(
            f"{completeness.tags_failing} of {completeness.tags_checked} tags below "
            f"{completeness.threshold:.0%} of their expected samples"
            + (
                " — held out of the KPIs: a material part of the batch is missing"
                if material
                else ""
            )
        ),
        metadata={
            "threshold": completeness.threshold,
            "tags_checked": completeness.tags_checked,
            "tags_below_threshold": completeness.tags_failing,
            "blocking_share_of_tags": BLOCKING_SHARE_OF_TAGS,
            "worst_tags": dg.MetadataValue.json(completeness.failing_tags),
        },
    )
