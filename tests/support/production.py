"""Reading the virtual plant's MES production counts back, for material-balance tests."""

import pandas as pd


def production_slots(production: pd.DataFrame) -> pd.DataFrame:
    """Good and scrap parts per interval end (rows) and machine (columns), in time order."""
    return production.pivot_table(
        index="end_ts",
        columns="machine_id",
        values=["good_qty", "scrap_qty"],
        aggfunc="sum",
        fill_value=0,
    ).sort_index()
