"""Load the batches of a landing burst side by side: one process per core, each loading whole files.

A burst can hold a hundred files (a first load) or a night's dozen; each file's load is a DuckDB
scan plus a GX validation, mostly on one core. Separate processes (spawned: the caller may be a
multi-threaded Dagster run) each load whole files; every file writes only its own lake files and
audit record, so they never contend.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from twin.ingest.batch_load import BatchOutcome, load_batch
from twin.ingest.landing import LandedBatch
from twin.paths import TwinPaths
from twin.plant.model import Plant

MAX_WORKERS = 2  # the machines here have two cores; each load may take DuckDB's 2 GB limit
# A spawned loader costs ~3.5 s of CPU before its first file (interpreter, pandas, DuckDB, GX),
# and a second one saves half the load's time: one more per ~8 s of estimated loading. A file
# costs ~0.17 s whatever its size (the packaging plant's 12 files of 2 MB loaded in 2.1 s) plus
# its bytes at ~20 MB/s (a seed-scale day: 354 MB of historian in 16.8 s, BENCHMARKS.md).
SECONDS_PER_WORKER = 8.0
SECONDS_PER_FILE = 0.17
BYTES_PER_SECOND = 20e6


def estimated_seconds(batches: list[LandedBatch]) -> float:
    """Roughly how long loading ``batches`` one by one takes on one core."""
    size = sum(b.archived.stat().st_size for b in batches if b.archived.exists())
    return len(batches) * SECONDS_PER_FILE + size / BYTES_PER_SECOND


def workers_for(batches: list[LandedBatch]) -> int:
    """Loader processes for ``batches``: none beside the caller's until the work pays for them."""
    wanted = int(estimated_seconds(batches) // SECONDS_PER_WORKER)
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1, wanted))


def load_batches(
    paths: TwinPaths,
    plant: Plant,
    batches: list[LandedBatch],
    *,
    completeness_threshold: float,
    workers: int | None = None,
) -> list[BatchOutcome]:
    """Every batch loaded (``load_batch``), outcomes in the order of ``batches``; in ``workers``
    processes, by default as many as the work pays for (``workers_for``)."""
    workers = workers_for(batches) if workers is None else workers
    if workers == 1:
        return [
            load_batch(paths, plant, b, completeness_threshold=completeness_threshold)
            for b in batches
        ]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(load_batch, paths, plant, b, completeness_threshold=completeness_threshold)
            for b in batches
        ]
        return [f.result() for f in futures]
