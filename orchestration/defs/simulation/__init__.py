"""Dagster definitions: nightly Monte Carlo scenario batch."""
