"""Landed batches, one burst per partition: parsed, validated row by row, checked with GX, written to the lake.

One multi-asset loads every source of a landing burst (twin.ingest.bursts) in one run: a source
with no file in the burst is skipped (no materialization, no check), so what is downstream sees
exactly the sources that got new data, all at once.
"""

from collections import Counter

import dagster as dg

from orchestration.defs.ingest.partitions import LANDING_BURSTS
from orchestration.lib.checks import (
    burst_check_result,
    completeness_check_result,
    contract_check_result,
)
from orchestration.lib.resources import TwinHome
from twin.ingest import bursts, parallel_load
from twin.paths import SOURCES

DESCRIPTIONS = {
    "historian": "Sensor readings (tag, time, value, quality) from plant historian exports, one partition per landing burst.",
    "mes_states": "Machine state intervals (running, idle, setup, downtime, off) from the MES, one partition per landing burst.",
    "mes_production": "Good and scrap counts per machine, product and work order from the MES, one partition per landing burst.",
    "cmms": "Maintenance work orders (corrective failures and preventive jobs) from the CMMS, one partition per landing burst.",
    "demand_plan": "The S&OP demand plan (version, product, weekly bucket, quantity) from the planning system, one partition per landing burst.",
    "assumed_capacity": "The capacity the planning system assumes per resource and bucket, one partition per landing burst.",
}
OWNERS = {"demand_plan": "team:planning", "assumed_capacity": "team:planning"}
COMPLETENESS_THRESHOLD = 0.95  # share of expected samples per tag; DESIGN §3.3
COMPLETENESS_CHECK = "historian_tag_completeness"


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def contract_check_name(source: str) -> str:
    return f"{source}_batch_contract"


def burst_metadata(audits: list[dict]) -> dict:
    """What the burst brought for one source: files, rows, statuses and the time span loaded."""
    loaded = [a for a in audits if a["status"] != "quarantined"]
    first = [str(a["first_ts"]) for a in loaded if a.get("first_ts")]
    last = [str(a["last_ts"]) for a in loaded if a.get("last_ts")]
    statuses = Counter(a["status"] for a in audits)
    return {
        "files": dg.MetadataValue.json(
            [
                {k: a.get(k) for k in ("file", "status", "rows_in", "rows_loaded", "rows_rejected")}
                | {"reason": a.get("reason") or ""}
                for a in audits
            ]
        ),
        "statuses": ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())),
        "rows_in": sum(a["rows_in"] for a in audits),
        "rows_loaded": sum(a["rows_loaded"] for a in audits),
        "rows_rejected": sum(a["rows_rejected"] for a in audits),
        "first_ts": min(first, default=""),
        "last_ts": max(last, default=""),
    }


def _check_specs(source: str) -> list[dg.AssetCheckSpec]:
    checks = [
        dg.AssetCheckSpec(
            contract_check_name(source),
            asset=raw_key(source),
            blocking=True,
            description=f"Every {source} file of the burst satisfies the landing contract (GX suite).",
        )
    ]
    if source == "historian":
        checks.append(
            dg.AssetCheckSpec(
                COMPLETENESS_CHECK,
                asset=raw_key(source),
                blocking=True,
                description="Every tag of every file delivered at least 95 % of its expected samples.",
            )
        )
    return checks


@dg.multi_asset(
    name="raw_batches",
    group_name="ingest",
    specs=[
        dg.AssetSpec(
            raw_key(source),
            description=DESCRIPTIONS[source],
            kinds={"parquet", "great_expectations"},
            owners=[OWNERS.get(source, "team:plant-data")],
            # a source with no file in the burst, or whose files were all quarantined, put nothing
            # into the lake: it records no materialization and sets nothing downstream in motion
            skippable=True,
        )
        for source in SOURCES
    ],
    check_specs=[spec for source in SOURCES for spec in _check_specs(source)],
    partitions_def=LANDING_BURSTS,
    can_subset=True,
)
def raw_batches(context: dg.AssetExecutionContext, twin: TwinHome):
    selected = {source for source in SOURCES if raw_key(source) in context.selected_asset_keys}
    batches = [
        b for b in bursts.burst_batches(twin.paths, context.partition_key) if b.source in selected
    ]
    outcomes = parallel_load.load_batches(
        twin.paths, twin.plant(), batches, completeness_threshold=COMPLETENESS_THRESHOLD
    )
    for source in SOURCES:
        mine = [o for b, o in zip(batches, outcomes, strict=True) if b.source == source]
        if not mine:
            continue
        key = raw_key(source)
        audits = [o.audit for o in mine]
        for audit in audits:
            if audit["status"] == "quarantined":
                context.log.warning(f"{audit['file']} quarantined: {audit.get('reason')}")
        contracts = [
            (
                o.audit["file"],
                contract_check_result(contract_check_name(source), o.audit, o.contract),
            )
            for o in mine
        ]
        results = [burst_check_result(key, contract_check_name(source), contracts)]
        if source == "historian":
            completeness = [
                (o.audit["file"], completeness_check_result(COMPLETENESS_CHECK, o.completeness))
                for o in mine
            ]
            results.append(burst_check_result(key, COMPLETENESS_CHECK, completeness))
        if all(a["status"] == "quarantined" for a in audits):
            yield from results
        else:
            yield dg.MaterializeResult(
                asset_key=key, metadata=burst_metadata(audits), check_results=results
            )
