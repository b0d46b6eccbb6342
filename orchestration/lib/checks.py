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
            description=f"{audit['status']}: {audit.get('reason') or 'not validated'}",
            metadata={"status": audit["status"], "reason": audit.get("reason") or "not validated"},
        )
    return dg.AssetCheckResult(
        check_name=name,
        passed=contract.success,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None
        if contract.success
        else f"{len(contract.failed)} of {contract.evaluated} expectations failed",
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


def _plain(value):
    """A metadata value as JSON-ready data (check results hold MetadataValue objects)."""
    return value.value if isinstance(value, dg.MetadataValue) else value


def burst_check_result(
    key: dg.AssetKey, name: str, per_file: list[tuple[str, dg.AssetCheckResult]]
) -> dg.AssetCheckResult:
    """One check result for a source's files in a landing burst: passes when every file passed.

    The severity is the worst of the failed files' (a blocking failure anywhere blocks); the
    metadata names each failed file with what its own check said, so the UI shows which file and
    why, as a check per file did.
    """
    failed = [(file, result) for file, result in per_file if not result.passed]
    severity = (
        dg.AssetCheckSeverity.ERROR
        if any(r.severity == dg.AssetCheckSeverity.ERROR for _, r in failed)
        else dg.AssetCheckSeverity.WARN
    )
    failures = [
        {
            "file": file,
            **({"description": r.description} if r.description else {}),
            **{k: _plain(v) for k, v in (r.metadata or {}).items()},
        }
        for file, r in failed
    ]
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=name,
        passed=not failed,
        severity=severity,
        description=(
            f"{len(failed)} of {len(per_file)} file(s) failed: "
            + "; ".join(f"{file}: {r.description or 'see metadata'}" for file, r in failed)
            if failed
            else f"all {len(per_file)} file(s) passed"
        ),
        metadata={
            "files_checked": len(per_file),
            "files_failed": len(failed),
            "failed_files": dg.MetadataValue.json(failures),
        },
    )
