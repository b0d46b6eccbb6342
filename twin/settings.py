"""Every environment variable twinbridge reads (DESIGN §3.1, `.env.example`), read at call time.

Nothing here is read when a module is imported, and nothing writes the environment: a test sets a
variable with monkeypatch and the next call sees it. Dagster resources read the same variables
through these functions, so one name has one meaning and one default everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

DEMO_PLANT = Path(__file__).resolve().parent / "plants" / "demo.yaml"
TRUE_WORDS = frozenset({"1", "true", "yes"})


def _text(name: str) -> str:
    return os.environ.get(name, "").strip()


def twin_home() -> Path:
    """TWIN_HOME, the root of all state (default ./data), as an absolute path."""
    return Path(_text("TWIN_HOME") or "data").resolve()


def plant_file() -> Path:
    """TWIN_PLANT, the plant model in force; the demo plant shipped with twinbridge when unset."""
    return Path(_text("TWIN_PLANT") or DEMO_PLANT).resolve()


def dagster_home(home: Path) -> Path:
    """DAGSTER_HOME, else the instance under TWIN_HOME."""
    return Path(_text("DAGSTER_HOME") or home / "dagster").resolve()


def scenarios_dir() -> Path | None:
    """TWIN_SCENARIOS, the folder of scenario files; None means the shipped set."""
    folder = _text("TWIN_SCENARIOS")
    return Path(folder) if folder else None


def ml_config_file() -> Path | None:
    """TWIN_ML_CONFIG, a YAML file overriding the failure-model settings."""
    path = _text("TWIN_ML_CONFIG")
    return Path(path) if path else None


def model_review_required() -> bool:
    """TWIN_MODEL_REVIEW: promotion waits for a reviewer's approval in the model registry."""
    return _text("TWIN_MODEL_REVIEW").lower() in TRUE_WORDS


def mlflow_tracking_uri() -> str | None:
    """MLFLOW_TRACKING_URI when set; None means the SQLite store under TWIN_HOME."""
    return _text("MLFLOW_TRACKING_URI") or None


def alert_webhook() -> str:
    """TWIN_ALERT_WEBHOOK: where failed runs are posted (a secret: never log it)."""
    return _text("TWIN_ALERT_WEBHOOK")


def redact_url(url: str) -> str:
    """``url`` reduced to scheme, host and port, for logs, messages and metadata.

    Webhook URLs carry their token in the path (``https://hooks.slack.com/services/...``) and
    database URLs their password in the user part (``postgresql://user:pass@db:5432/twin``):
    neither may be shown. ``https://hooks.slack.com/services/T/B/x`` gives ``https://hooks.slack.com``,
    ``postgresql://u:p@db:5432/x`` gives ``postgresql://db:5432``; text that is not a URL with a
    scheme gives ``<redacted>`` (it may be a bare secret).
    """
    from urllib.parse import urlsplit

    text = (url or "").strip()
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
    except ValueError:
        return "<redacted>"
    if not scheme or ("://" not in text):
        return "<redacted>"
    if "@" in text.split("://", 1)[1] and "@" not in parts.netloc and ":" in parts.netloc:
        # user:pass with an unescaped / ? or # in the password: where the host starts is unknown
        return f"{scheme}://<redacted>"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: leave it out
        port = None
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def events_webhook() -> str:
    """TWIN_EVENTS_WEBHOOK: where change events are POSTed (a secret: show only ``redact_url``)."""
    return _text("TWIN_EVENTS_WEBHOOK")


def event_change_pct() -> float:
    """TWIN_EVENT_CHANGE_PCT: how far (percent) a P50 capacity must move to raise an event; default 5."""
    import math

    text = _text("TWIN_EVENT_CHANGE_PCT")
    if not text:
        return 5.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f"TWIN_EVENT_CHANGE_PCT must be a non-negative number of percent such as 5, not {text!r}."
        )
    return value


def publish_postgres_url() -> str | None:
    """TWIN_PUBLISH_POSTGRES: a libpq URL; each publication is also written there (DESIGN §3.7).

    A secret (it may carry a password): show only ``redact_url``. None keeps the DuckDB catalog
    as the only publication.
    """
    return _text("TWIN_PUBLISH_POSTGRES") or None


def dagster_postgres_url() -> str | None:
    """TWIN_DAGSTER_POSTGRES: a libpq URL for the Dagster instance instead of SQLite (a secret)."""
    return _text("TWIN_DAGSTER_POSTGRES") or None


def celery_broker_url() -> str | None:
    """TWIN_CELERY_BROKER: a Redis URL; when set, the scenario batch and batch loads run on Celery
    workers instead of in the run's own process (a secret: it may carry a password)."""
    return _text("TWIN_CELERY_BROKER") or None
