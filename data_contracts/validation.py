"""Run a Great Expectations 1.x suite on an in-memory frame and summarise it (no Dagster here).

The Dagster check result is built from ``SuiteOutcome`` in orchestration/lib/checks.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # GX takes ~4 s to import: only when a suite actually runs
    import great_expectations as gx
    import pandas as pd

_names = count()


@dataclass(frozen=True)
class SuiteOutcome:
    success: bool
    evaluated: int
    failed: list[str]  # e.g. "expect_column_values_to_be_between(value): 3 unexpected"
    rows_validated: int = 0  # rows GX saw
    rows_total: int = 0  # rows loaded; more than rows_validated when GX saw a sample
    scope: str = "all rows"  # what GX saw, in words (sample rule and exact aggregate checks)

    def to_dict(self) -> dict:
        return {
            "success": self.success,
            "evaluated": self.evaluated,
            "failed": list(self.failed),
            "rows_validated": self.rows_validated,
            "rows_total": self.rows_total,
            "scope": self.scope,
        }


def ephemeral_context() -> Any:
    """An in-memory GX context: no files, no usage statistics, no progress bars."""
    # No usage statistics to switch off: GX 1.24.1 ships no analytics client (no posthog
    # dependency, no great_expectations.analytics module: checked in the pinned wheel).
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _describe(result: Any) -> str:
    config = result.expectation_config
    kwargs = config.kwargs
    target = kwargs.get("column") or kwargs.get("column_list") or kwargs.get("column_A") or ""
    if kwargs.get("column_B"):
        target = f"{target}, {kwargs['column_B']}"
    detail = ""
    if result.exception_info and result.exception_info.get("raised_exception"):
        detail = ": error " + str(result.exception_info.get("exception_message", ""))[:200]
    elif (n := (result.result or {}).get("unexpected_count")) is not None:
        detail = f": {n} unexpected"
    elif (observed := (result.result or {}).get("observed_value")) is not None:
        detail = f": observed {str(observed)[:120]}"
    return f"{config.type}({target}){detail}"


def run_suite(
    frame: pd.DataFrame,
    suite: gx.ExpectationSuite,
    *,
    parameters: dict[str, Any] | None = None,
    rows_total: int | None = None,
    scope: str = "all rows",
) -> SuiteOutcome:
    """Validate ``frame`` against ``suite``; ``parameters`` fill ``{"$PARAMETER": name}`` kwargs."""
    context = ephemeral_context()
    name = f"frame_{next(_names)}"
    batch = (
        context.data_sources.add_pandas(name=name)
        .add_dataframe_asset(name=name)
        .add_batch_definition_whole_dataframe(name="whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(suite, result_format="SUMMARY", expectation_parameters=parameters or {})
    failed = [_describe(r) for r in result.results if not r.success]
    return SuiteOutcome(
        success=bool(result.success),
        evaluated=len(result.results),
        failed=failed,
        rows_validated=len(frame),
        rows_total=len(frame) if rows_total is None else rows_total,
        scope=scope,
    )


@dataclass
class ExactChecks:
    """Whole-batch checks computed in DuckDB, reported next to GX when GX sees only a sample."""

    failed: list[str] = field(default_factory=list)
    evaluated: int = 0

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.evaluated += 1
        if not ok:
            self.failed.append(f"exact:{name}" + (f": {detail}" if detail else ""))


def merge(outcome: SuiteOutcome, exact: ExactChecks) -> SuiteOutcome:
    return SuiteOutcome(
        success=outcome.success and not exact.failed,
        evaluated=outcome.evaluated + exact.evaluated,
        failed=[*outcome.failed, *exact.failed],
        rows_validated=outcome.rows_validated,
        rows_total=outcome.rows_total,
        scope=outcome.scope,
    )
