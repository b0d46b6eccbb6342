"""Dagster definitions: contract-checked, versioned publication for planning systems."""
