"""Plain helpers the Dagster definitions import (not auto-loaded)."""
