"""The published contracts: one blocking check per table, so nothing that breaks its contract is published."""

import dagster as dg

from data_contracts import PUBLISHED_TABLES
from orchestration.lib.conditions import check_with_its_asset
from orchestration.lib.resources import TwinHome
from twin import warehouse
from twin.publish.table_checks import check_table, provisional_stamp


def _contract_check(name: str) -> dg.AssetChecksDefinition:
    """One blocking check per table, so it runs in whichever run rebuilt that table."""

    @dg.asset_check(
        asset=dg.AssetKey(["publish", name]),
        name=f"{name}_contract",
        blocking=True,
        automation_condition=check_with_its_asset(),
        description=f"{name} satisfies its published contract (data_contracts/published/{name}.yml); "
        "while it fails, nothing is published and planners keep the previous version.",
    )
    def _check(twin: TwinHome) -> dg.AssetCheckResult:
        _, check = check_table(
            name, warehouse.read_publish_models(twin.paths, [name])[name], provisional_stamp()
        )
        return dg.AssetCheckResult(
            passed=check.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description="contract satisfied"
            if check.passed
            else "not published: " + "; ".join(check.failures[:5]),
            metadata={
                "contract_version": check.contract_version,
                "rows": check.rows,
                "expectations_evaluated": check.evaluated,
                "failures": dg.MetadataValue.json(list(check.failures)),
            },
        )

    return _check


published_table_contracts = [_contract_check(name) for name in PUBLISHED_TABLES]
