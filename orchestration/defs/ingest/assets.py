"""Landed batches, one partition each: parsed, validated row by row, checked with GX, written to the lake."""

import dagster as dg

from orchestration.defs.ingest.partitions import BATCH_PARTITIONS
from orchestration.lib.checks import completeness_check_result, contract_check_result
from orchestration.lib.resources import TwinHome
from twin.ingest import batch_load, landing
from twin.paths import SOURCES

DESCRIPTIONS = {
    "historian": "Sensor readings (tag, time, value, quality) from plant historian exports, one partition per file.",
    "mes_states": "Machine state intervals (running, idle, setup, downtime, off) from the MES, one partition per file.",
    "mes_production": "Good and scrap counts per machine, product and work order from the MES, one partition per file.",
    "cmms": "Maintenance work orders (corrective failures and preventive jobs) from the CMMS, one partition per file.",
    "demand_plan": "The S&OP demand plan (version, product, weekly bucket, quantity) from the planning system, one partition per file.",
    "assumed_capacity": "The capacity the planning system assumes per resource and bucket, one partition per file.",
}
OWNERS = {"demand_plan": "team:planning", "assumed_capacity": "team:planning"}
COMPLETENESS_THRESHOLD = 0.95  # share of expected samples per tag; DESIGN §3.3


def contract_check_name(source: str) -> str:
    return f"{source}_batch_contract"


def batch_metadata(audit: dict) -> dict:
    return {
        "file": audit["file"],
        "status": audit["status"],
        "rows_in": audit["rows_in"],
        "rows_loaded": audit["rows_loaded"],
        "rows_rejected": audit["rows_rejected"],
        "reason": audit.get("reason") or "",
        "first_ts": str(audit.get("first_ts") or ""),
        "last_ts": str(audit.get("last_ts") or ""),
    }


def _build(source: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", source])
    checks = [
        dg.AssetCheckSpec(
            contract_check_name(source),
            asset=key,
            blocking=True,
            description=f"The loaded {source} rows satisfy the landing contract (GX suite).",
        )
    ]
    if source == "historian":
        checks.append(
            dg.AssetCheckSpec(
                "historian_tag_completeness",
                asset=key,
                blocking=True,
                description="Every tag delivered at least 95 % of its expected samples.",
            )
        )

    # output_required=False: a quarantined batch put nothing into the lake, so it records no
    # materialization (only its failed checks) and sets nothing downstream in motion.
    @dg.asset(
        key=key,
        group_name="ingest",
        description=DESCRIPTIONS[source],
        partitions_def=BATCH_PARTITIONS[source],
        check_specs=checks,
        kinds={"parquet", "great_expectations"},
        owners=[OWNERS.get(source, "team:plant-data")],
        output_required=False,
    )
    def _asset(context: dg.AssetExecutionContext, twin: TwinHome):
        batch = landing.find_batch(twin.paths, context.partition_key)
        outcome = batch_load.load_batch(
            twin.paths, twin.plant(), batch, completeness_threshold=COMPLETENESS_THRESHOLD
        )
        audit = outcome.audit
        results = [contract_check_result(contract_check_name(source), audit, outcome.contract)]
        if source == "historian":
            results.append(
                completeness_check_result("historian_tag_completeness", outcome.completeness)
            )
        if audit["status"] == "quarantined":
            context.log.warning(f"{audit['file']} quarantined: {audit.get('reason')}")
            yield from results
            return
        yield dg.MaterializeResult(metadata=batch_metadata(audit), check_results=results)

    return _asset


ingest_assets = [_build(source) for source in SOURCES]
