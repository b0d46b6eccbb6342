"""Settings helpers: a URL that may carry a secret is shown as scheme, host and port only."""

import pytest

from twin.settings import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com"),
        ("postgresql://u:p@db:5432/x", "postgresql://db:5432"),
        (
            "postgresql+psycopg2://twin:s3cret@db.plant.local/mlflow?sslmode=require",
            "postgresql+psycopg2://db.plant.local",
        ),
        (
            "https://outlook.office.com/webhook/abc@def/IncomingWebhook/123",
            "https://outlook.office.com",
        ),
        ("http://[::1]:8080/hook?token=abc", "http://[::1]:8080"),
        ("HTTPS://Hooks.Slack.com/x#frag", "https://hooks.slack.com"),
        ("http://token@example.com/p", "http://example.com"),
        ("https://u:p@host:notaport/x", "https://host"),
        ("sqlite:////var/twin/mlflow/mlflow.db", "sqlite://"),
        # An unescaped "/" in the password: where the host starts is unknown, show none of it.
        ("postgresql://u:12/34@db/x", "postgresql://<redacted>"),
        # Not a URL with a scheme: it may be a bare token.
        ("hooks.slack.com/services/T000/B000/XXXX", "<redacted>"),
        ("XXXXSECRET", "<redacted>"),
        ("", ""),
    ],
)
def test_redact_url_keeps_scheme_host_and_port_only(url, shown) -> None:
    assert redact_url(url) == shown
