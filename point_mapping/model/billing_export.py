"""`billing_export:` settings: where statements are delivered, how they are signed, and the schedules
that close and export billing periods by themselves (docs/billing-delivery.md)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from croniter import CroniterBadDateError, croniter
from pydantic import Field, PositiveInt, field_validator, model_validator

from point_mapping.model.common import Duration, EnvName, Frozen

# a cron expression is evaluated against the site's local wall clock (5 fields, no seconds)
CRON_FIELDS = 5


def delivery_url_problem(url: str) -> str | None:
    """Why `url` may not receive statements, or None. Statements carry tenants' names and money: they
    travel over HTTPS; plain HTTP only to this machine (a receiver under test, a local relay)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        return f"{url!r} is not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not host:
        return f"{url!r} is not an http(s) URL; write e.g. 'https://billing.example.com/api/statements'"
    if parts.scheme == "http" and not is_loopback(host):
        return f"plain HTTP is only allowed to loopback hosts (127.0.0.0/8, ::1, localhost); use https:// for {host}"
    return None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cron_problem(expression: str) -> str | None:
    if len(expression.split()) != CRON_FIELDS or not croniter.is_valid(expression):
        return (
            f"{expression!r} is not a cron expression of 5 fields (minute hour day-of-month month day-of-week), "
            "e.g. '0 6 1 * *' for 06:00 on the 1st"
        )
    try:  # valid fields that never meet, like '0 6 31 2 *', would never fire
        croniter(expression, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        return f"{expression!r} never fires (no date matches it)"
    return None


class BillingSchedule(Frozen):
    cron: str = Field(description="when, in the site's timezone, e.g. '0 6 1 * *'")
    action: Literal["close", "export"]
    period: Literal["previous-month", "current-month"] = "previous-month"
    format: Literal["json"] = Field(default="json", description="what is delivered to the billing system")

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        problem = cron_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class BillingExportSettings(Frozen):
    url: str = Field(description="the billing system's endpoint for statements (POST, JSON)")
    secret_env: EnvName = Field(description="environment variable holding the HMAC-SHA256 key")
    timeout: Duration = Field(default=timedelta(seconds=30), description="per request, connect to last byte")
    dead_after_days: PositiveInt = Field(default=3, description="undelivered this long: dead-lettered, an event")
    retry_initial: Duration = Field(default=timedelta(seconds=30))
    retry_max: Duration = Field(default=timedelta(hours=1))
    auto_approve: bool = Field(default=False, description="deliver statements without an accountant's approval")
    catch_up: Duration = Field(
        default=timedelta(days=1), description="a fire missed while stopped runs at start if this recent"
    )
    schedules: list[BillingSchedule] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _deliverable(cls, value: str) -> str:
        problem = delivery_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("timeout", "retry_initial")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @model_validator(mode="after")
    def _retry_order(self) -> BillingExportSettings:
        if self.retry_max < self.retry_initial:
            raise ValueError("retry_max must be at least retry_initial")
        return self

    @property
    def dead_after(self) -> timedelta:
        return timedelta(days=self.dead_after_days)
