"""Dagster definitions: plant."""
