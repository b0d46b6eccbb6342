"""Run failures reported where people look: a log under TWIN_HOME and, if configured, a webhook.

The webhook receives JSON with a ``text`` field (what Slack, Teams and Mattermost incoming webhooks
display) plus the details as fields, so a chat channel or an incident tool can take it as is.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass

from twin import settings
from twin.paths import TwinPaths

WEBHOOK_ENV = "TWIN_ALERT_WEBHOOK"
TIMEOUT_S = 10.0
# A URL with credentials in it (``postgresql://user:pass@db/twin``), e.g. in a database driver's error.
_URL_WITH_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/@]+@[^\s'\"<>]*")


def redact_credentials(text: str) -> str:
    """``text`` with every URL that carries credentials reduced to scheme, host and port."""
    return _URL_WITH_CREDENTIALS.sub(lambda m: settings.redact_url(m.group(0)), text)


@dataclass(frozen=True)
class RunFailure:
    job: str
    run_id: str
    error: str
    failed_at: str  # ISO 8601, UTC

    @property
    def text(self) -> str:
        return f"twinbridge: run {self.run_id[:8]} of {self.job} failed: {self.error}"


def failure_log(paths: TwinPaths):
    return paths.home / "logs" / "run_failures.jsonl"


def report_run_failure(
    paths: TwinPaths, job: str, run_id: str, error: str, webhook_url: str | None = None
) -> str | None:
    """Append the failure to the log; post it to the webhook when there is one.

    Returns why the webhook post failed (None when it succeeded or none is configured). A broken
    webhook must not hide the failure: the log line is written first and the error is returned.
    """
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    failure = RunFailure(job, run_id, redact_credentials(error), when)
    log = failure_log(paths)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(failure)) + "\n")
    url = webhook_url if webhook_url is not None else settings.alert_webhook()
    if not url:
        return None
    body = json.dumps({"text": failure.text, **asdict(failure)}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            response.read()
    except (urllib.error.URLError, OSError, ValueError) as problem:
        # The URL is a secret (Slack/Teams embed the token in it): name the variable and the host
        # only. The exception's text is left out too: an HTTPError or URLError may quote the URL.
        return (
            f"the {WEBHOOK_ENV} webhook ({settings.redact_url(url)}) was not reached: "
            f"{type(problem).__name__}"
            + (f" {problem.code}" if isinstance(problem, urllib.error.HTTPError) else "")
        )
    return None
