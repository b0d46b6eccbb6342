"""Declarative automation: the sensor that evaluates every asset's automation condition."""
