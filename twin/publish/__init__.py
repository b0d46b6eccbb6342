"""Publication for planning systems: versions, catalog, table checks, connectors, lineage, report."""
