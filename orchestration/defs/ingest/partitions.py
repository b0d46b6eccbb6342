"""One dynamic partition per landing burst (twin.ingest.bursts): the batches claimed together."""

import dagster as dg

LANDING_BURSTS = dg.DynamicPartitionsDefinition(name="landing_bursts")
