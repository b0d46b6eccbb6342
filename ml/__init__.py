"""Failure-risk model core: features, time split, training, evaluation, MLflow registry.

Plain Python with no Dagster imports, and nothing here knows what kind of machine it looks at: the same
code trains on the virtual plant and on NASA C-MAPSS turbofans. The input is a generic hourly frame
(one row per machine per hour, numeric features, label columns); see ``ml.features``.
"""
