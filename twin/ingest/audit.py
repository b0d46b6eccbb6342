"""Audit records, one JSON file per batch: lake/batches/<batch_id>.json (data_contracts/README.md)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from twin.files import write_text_atomically
from twin.paths import TwinPaths

AUDIT_KEYS = (
    "batch_id",
    "source",
    "file",
    "status",
    "rows_in",
    "rows_loaded",
    "rows_rejected",
    "reason",
    "archived_as",
    "landed_at",
    "loaded_at",
    "first_ts",
    "last_ts",
    "duplicates",
    "checks",
)
# `twin batches --json` prints exactly these (DESIGN §3.1): the first eight of every record.
PUBLIC_KEYS = AUDIT_KEYS[:8]
REASONS_LISTED = 5  # the five commonest reject reasons, then "and N more reasons"


def audit_dir(paths: TwinPaths) -> Path:
    return paths.lake / "batches"


def write_audit(paths: TwinPaths, record: dict) -> Path:
    target = audit_dir(paths) / f"{record['batch_id']}.json"
    write_text_atomically(target, json.dumps(record, indent=2, default=str) + "\n")
    return target


def read_audit(paths: TwinPaths) -> list[dict]:
    """All audit records, oldest load first (ties by batch id)."""
    folder = audit_dir(paths)
    if not folder.is_dir():
        return []
    records = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")]
    return sorted(records, key=lambda r: (r.get("loaded_at") or "", r["batch_id"]))


def summarise_reasons(counts: Counter[str]) -> str | None:
    """'2 × unknown tag; 1 × value is not finite (NaN/inf)', commonest first; None when clean."""
    if not counts:
        return None
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = "; ".join(f"{n} × {reason}" for reason, n in ranked[:REASONS_LISTED])
    if len(ranked) > REASONS_LISTED:
        text += f"; and {len(ranked) - REASONS_LISTED} more reasons"
    return text
