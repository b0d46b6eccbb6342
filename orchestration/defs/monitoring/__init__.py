"""Watching the deployed twin: publication freshness against the planning cadence, run failures."""
