"""Load landed batches the way the ingest does, and read back what the load wrote to the lake."""

import pyarrow.parquet as pq

from tests.support.batches import NOW
from twin.ingest import batch_load, landing


def same_types(a, b) -> bool:
    """Names and types; DuckDB marks constant columns NOT NULL, which readers ignore."""
    return [(f.name, f.type) for f in a] == [(f.name, f.type) for f in b]


def load_all(paths, plant, **kwargs):
    """Claim everything in landing and load it; outcomes keyed by file name.

    The hand-made batches hold a few samples per tag, far below 95 % of what their periods
    expect, so completeness would hold every one of them back: unless a test passes its own
    ``completeness_threshold`` (tests/twin/ingest/test_completeness.py does), it is off.
    """
    kwargs.setdefault("completeness_threshold", 0.0)
    return {
        b.file: batch_load.load_batch(paths, plant, b, now=NOW, **kwargs)
        for b in landing.claim_landed_files(paths)
    }


def lake_rows(paths, source, batch_id):
    """The loaded rows of one batch, as a DataFrame."""
    return pq.read_table(paths.lake / source / f"{batch_id}.parquet").to_pandas()


def rejects(paths, source, batch_id):
    """The rejected rows of one batch, as a DataFrame."""
    return pq.read_table(paths.lake / "rejects" / source / f"{batch_id}.parquet").to_pandas()
