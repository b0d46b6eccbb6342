"""Dagster instance storage on PostgreSQL from a libpq URL (TWIN_DAGSTER_POSTGRES, DESIGN §3.7).

SQLAlchemy 2.1 maps a plain ``postgresql://`` URL to psycopg 3, whose server-side parameters break
dagster-postgres 0.29's ``NOTIFY run_events, %(id)s``; the URL is handed to dagster-postgres with
the psycopg2 driver named instead, so operators keep setting an ordinary libpq URL.
"""

from __future__ import annotations

from dagster_postgres import DagsterPostgresStorage

LIBPQ_SCHEMES = ("postgresql://", "postgres://")


def with_psycopg2_driver(url: str) -> str:
    for scheme in LIBPQ_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme) :]
    return url  # a driver is already named


class TwinPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres run, event-log and schedule storage, configured by a libpq URL."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        url = config_value.get("postgres_url")
        if url:
            config_value = {**config_value, "postgres_url": with_psycopg2_driver(url)}
        return super().from_config_value(inst_data, config_value)
