"""Landing bursts: the batches claimed together, loaded together (one load run, one rebuild after).

A plant's exports arrive in bursts: the night's historian, MES and CMMS files land within seconds
of each other. Loading each file in a run of its own costs a run start-up per file and lets the
rebuild downstream see the sources one at a time (KPIs built before their historian inputs, then
again after them). So every batch archived but not yet loaded joins one burst, recorded as
``lake/batches/bursts/<burst_id>.json``; the burst is what a load run loads. The audit stays per
batch (``twin batches``): a burst only groups them.

A burst id is ``<UTC time opened>-<digest of its batch ids>``: sortable, and the same batches give
the same digest, so a burst that was recorded but never requested is requested once, later.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from twin.files import write_text_atomically
from twin.ingest import landing
from twin.ingest.audit import audit_dir, read_audit
from twin.paths import TwinPaths


@dataclass(frozen=True)
class Burst:
    burst_id: str
    batch_ids: tuple[str, ...]  # in landing order


def bursts_dir(paths: TwinPaths) -> Path:
    return audit_dir(paths) / "bursts"


def _record_path(paths: TwinPaths, burst_id: str) -> Path:
    return bursts_dir(paths) / f"{burst_id}.json"


def _read(path: Path) -> Burst:
    record = json.loads(path.read_text(encoding="utf-8"))
    return Burst(record["burst_id"], tuple(b["batch_id"] for b in record["batches"]))


def list_bursts(paths: TwinPaths) -> list[Burst]:
    """Every burst recorded, oldest first."""
    folder = bursts_dir(paths)
    if not folder.is_dir():
        return []
    return [_read(p) for p in sorted(folder.glob("*.json"))]


def open_burst(paths: TwinPaths, now: datetime | None = None) -> Burst | None:
    """Group every archived batch that is neither loaded nor in a burst into a new burst.

    None when there is no such batch. Runs under the landing claim lock, so two claimers (the
    landing sensor and ``twin run``) never put one batch into two bursts.
    """
    with landing.claim_lock(paths):
        grouped = {b for burst in list_bursts(paths) for b in burst.batch_ids}
        loaded = {r["batch_id"] for r in read_audit(paths)}
        batches = [
            b
            for b in landing.archived_batches(paths)
            if b.batch_id not in grouped and b.batch_id not in loaded
        ]
        if not batches:
            return None
        now = (now or datetime.now(UTC)).astimezone(UTC)
        digest = hashlib.sha256("\n".join(sorted(b.batch_id for b in batches)).encode())
        burst = Burst(
            f"{now:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:10]}", tuple(b.batch_id for b in batches)
        )
        record = {
            "burst_id": burst.burst_id,
            "opened_at": now.isoformat(),
            "batches": [
                {"batch_id": b.batch_id, "source": b.source, "file": b.file} for b in batches
            ],
        }
        write_text_atomically(
            _record_path(paths, burst.burst_id), json.dumps(record, indent=2) + "\n"
        )
        return burst


def burst_batches(paths: TwinPaths, burst_id: str) -> list[landing.LandedBatch]:
    """The archived batches of a burst, in landing order; KeyError for an unknown burst."""
    path = _record_path(paths, burst_id)
    if not path.is_file():
        raise KeyError(f"no landing burst {burst_id} under {bursts_dir(paths)}")
    return [landing.find_batch(paths, batch_id) for batch_id in _read(path).batch_ids]
