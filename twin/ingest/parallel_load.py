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
MIN_BATCHES_PER_WORKER = 3  # spawning a loader (~3 s of imports) pays off only over a few files


def workers_for(batches: int) -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1, batches // MIN_BATCHES_PER_WORKER))


def load_batches(
    paths: TwinPaths,
    plant: Plant,
    batches: list[LandedBatch],
    *,
    completeness_threshold: float,
) -> list[BatchOutcome]:
    """Every batch loaded (``load_batch``), outcomes in the order of ``batches``."""
    workers = workers_for(len(batches))
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
