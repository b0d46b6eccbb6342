"""Dagster orchestration of twinbridge: thin wrappers over twin/, ml/ and orchestration/lib."""
