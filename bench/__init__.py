"""Benchmarks and their adapters (run as scripts: python bench/<name>.py)."""
