"""`billing_export:` in YAML: a URL that may receive statements, a secret named by environment variable,
cron expressions that fire; every problem at its file:line:col, and the adapter refuses the same."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from billing_export.outbox import RetryPolicy
from bms_bridge.billing.delivery import DeliveryConfig, DeliveryConfigError
from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.model.billing_export import BillingExportSettings

SECTION = """
billing_export:
  url: https://billing.example.com/api/statements
  secret_env: BILLING_HMAC_KEY
  timeout: 20s
  dead_after_days: 5
  auto_approve: false
  schedules:
    - {cron: "0 6 1 * *", action: close, period: previous-month}
    - {cron: "30 6 * * *", action: export, period: previous-month, format: json}
"""


def write_section(site_dir: Path, text: str) -> Path:
    path = site_dir / "billing.yaml"
    path.write_text(text.lstrip("\n"))
    return path


def problems_of(site_dir: Path) -> list[str]:
    with pytest.raises(SiteInvalid) as caught:
        open_site(site_dir)
    return [str(p).replace(f"{site_dir}/", "") for p in caught.value.problems]


def test_a_valid_section_is_read_into_the_model(site_dir: Path) -> None:
    write_section(site_dir, SECTION)
    settings = open_site(site_dir).model.billing_export
    assert settings is not None
    assert settings.timeout == timedelta(seconds=20)
    assert settings.dead_after == timedelta(days=5)
    assert [(s.cron, s.action, s.period, s.format) for s in settings.schedules] == [
        ("0 6 1 * *", "close", "previous-month", "json"),
        ("30 6 * * *", "export", "previous-month", "json"),
    ]


def test_a_site_without_the_section_has_none(site_dir: Path) -> None:
    assert open_site(site_dir).model.billing_export is None


def test_bad_cron_plain_http_and_inline_secret_point_at_their_node(site_dir: Path) -> None:
    text = SECTION.replace("https://billing.example.com", "http://billing.example.com")
    text = text.replace('"0 6 1 * *"', '"0 25 1 * *"').replace('"30 6 * * *"', '"0 6 31 2 *"')
    text = text.replace("BILLING_HMAC_KEY", "hunter2")
    write_section(site_dir, text)
    assert problems_of(site_dir) == [
        "billing.yaml:2:8: url: plain HTTP is only allowed to loopback hosts (127.0.0.0/8, ::1, localhost); "
        "use https:// for billing.example.com",
        "billing.yaml:3:15: secret_env: name an environment variable (UPPER_CASE) that holds the secret; "
        "secrets are never written in YAML",
        "billing.yaml:8:14: cron: '0 25 1 * *' is not a cron expression of 5 fields (minute hour day-of-month "
        "month day-of-week), e.g. '0 6 1 * *' for 06:00 on the 1st",
        "billing.yaml:9:14: cron: '0 6 31 2 *' never fires (no date matches it)",
    ]


def test_unknown_action_and_period_are_errors(site_dir: Path) -> None:
    write_section(site_dir, SECTION.replace("action: close", "action: invoice").replace("previous-month}", "last}"))
    problems = problems_of(site_dir)
    assert [p.split(": ")[0] for p in problems] == ["billing.yaml:8:35", "billing.yaml:8:52"]
    assert "action" in problems[0] and "period" in problems[1]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8123/statements",
        "http://127.10.0.3/statements",
        "http://[::1]:8123/statements",
        "http://localhost:8123/statements",
        "https://billing.example.com/statements",
    ],
)
def test_http_only_to_loopback(url: str) -> None:
    BillingExportSettings(url=url, secret_env="KEY")
    assert DeliveryConfig(url, b"key", timedelta(seconds=5), RetryPolicy()).url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.5/statements", "plain HTTP is only allowed to loopback hosts"),
        ("http://128.0.0.1/statements", "plain HTTP is only allowed to loopback hosts"),
        ("http://localhost.example.com/x", "plain HTTP is only allowed to loopback hosts"),
        ("ftp://127.0.0.1/x", "is not an http(s) URL"),
        ("https:///statements", "is not an http(s) URL"),
        ("https://billing.example.com:port/x", "is not a URL"),
    ],
)
def test_other_urls_are_refused_with_the_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        BillingExportSettings(url=url, secret_env="KEY")
    with pytest.raises(DeliveryConfigError, match=re.escape(message)):
        DeliveryConfig(url, b"key", timedelta(seconds=5), RetryPolicy())


def test_the_secret_comes_from_the_named_environment_variable() -> None:
    settings = BillingExportSettings(
        url="https://billing.example.com/s", secret_env="BILLING_HMAC_KEY", dead_after_days=5
    )
    config = DeliveryConfig.from_settings(settings, {"BILLING_HMAC_KEY": "k3y"})
    assert config.secret == b"k3y"
    assert config.policy.dead_after == timedelta(days=5)
    with pytest.raises(DeliveryConfigError, match="environment variable BILLING_HMAC_KEY is not set"):
        DeliveryConfig.from_settings(settings, {})
