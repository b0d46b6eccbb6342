"""One dynamic partition per landed batch (its sha256), per source."""

import dagster as dg

from twin.paths import SOURCES

BATCH_PARTITIONS: dict[str, dg.DynamicPartitionsDefinition] = {
    source: dg.DynamicPartitionsDefinition(name=f"{source}_batches") for source in SOURCES
}
