"""twinbridge's digital twin: plant model, virtual plant, scenario engine (no Dagster imports)."""
