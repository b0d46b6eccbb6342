"""Dagster definitions: failure-risk model (train, gate, promote, score).

assets (train, promote, score), jobs, sensors (review decisions, drift), schedules. The promotion and
review rules are in ml.registry; these only call them.
"""
