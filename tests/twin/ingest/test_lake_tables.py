"""Lake table folders (twin/ingest/lake_tables.py): the empty schema files written before any batch."""

import pyarrow as pa
import pyarrow.parquet as pq

from twin.ingest import batch_load
from twin.ingest.sources import REJECTS_SCHEMA, lake_schema


def test_ensure_lake_writes_empty_schemas(paths):
    batch_load.ensure_lake(paths)
    for source in ("historian", "mes_states", "mes_production", "cmms"):
        assert pq.read_schema(paths.lake / source / "_empty.parquet").equals(lake_schema(source))
        assert pq.read_schema(paths.lake / "rejects" / source / "_empty.parquet").equals(
            REJECTS_SCHEMA
        )
    assert pa.types.is_timestamp(lake_schema("historian").field("ts").type)
