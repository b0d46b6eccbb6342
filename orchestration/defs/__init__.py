"""Dagster objects only; every module below is loaded by orchestration.definitions."""
