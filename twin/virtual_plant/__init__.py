"""The virtual plant: a seeded generator of landing files (historian, MES, CMMS) for any plant model."""
