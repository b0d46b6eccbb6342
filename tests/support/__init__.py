"""Builders the tests share: landed batches, plants and publication tables."""
