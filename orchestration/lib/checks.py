"""Ingest outcomes as Dagster check results: what failed and where, visible in the UI."""

from __future__ import annotations

import dagster as dg

from data_contracts.validation import SuiteOutcome


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


# Isolated gaps (a sensor dropping out for an hour) are routine: they warn, naming the tags, and the
# KPIs carry the machine-day's completeness. A batch in which more than this share of the tags fall
# short is missing a material part of its data, and blocks what depends on it.
BLOCKING_SHARE_OF_TAGS = 0.10


def completeness_check_result(name: str, completeness) -> dg.AssetCheckResult:
    """Pass when every tag reached the threshold; metadata lists the tags that did not."""
    if completeness is None:
        return dg.AssetCheckResult(
            check_name=name,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"reason": "the batch was not loaded, so completeness is unknown"},
        )
    failing = completeness.failing_tags
    share = len(failing) / completeness.tags_checked if completeness.tags_checked else 1.0
    material = share > BLOCKING_SHARE_OF_TAGS
    return dg.AssetCheckResult(
        check_name=name,
        passed=completeness.passed,
        severity=dg.AssetCheckSeverity.ERROR if material else dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(failing)} of {completeness.tags_checked} tags below "
            f"{completeness.threshold:.0%} of their expected samples"
            + (" — blocking: a material part of the batch is missing" if material else "")
        ),
        metadata={
            "threshold": completeness.threshold,
            "tags_checked": completeness.tags_checked,
            "tags_below_threshold": len(failing),
            "blocking_share_of_tags": BLOCKING_SHARE_OF_TAGS,
            "worst_tags": dg.MetadataValue.json(failing),
        },
    )
