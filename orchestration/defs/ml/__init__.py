"""Dagster definitions: failure-risk model (train, gate, promote, score)."""
