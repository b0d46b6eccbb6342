"""Scenario batches: scenarios, line parameters from history, the engine, its SimPy reference, capacity."""
