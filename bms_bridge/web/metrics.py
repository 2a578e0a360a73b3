"""Prometheus metrics at /metrics: the web app's own counters plus device health read at scrape time.

Each app has its own registry, so several apps in one process (tests) never share counters.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from metering.health import DeviceHealth


class WebMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "bms_bridge_http_requests", "HTTP requests answered", ["route", "status"], registry=self.registry
        )
        self.login_failures = Counter("bms_bridge_login_failures", "failed logins", registry=self.registry)
        self.logins_refused = Counter(
            "bms_bridge_logins_rate_limited", "logins refused by the rate limit", registry=self.registry
        )
        self.device_online = Gauge(
            "bms_bridge_device_online", "1 when the device answered its last polls", ["device"], registry=self.registry
        )
        self.device_errors = Gauge(
            "bms_bridge_device_errors",
            "failed polls of the device since it was first seen",
            ["device"],
            registry=self.registry,
        )
        self.readings_age = Gauge(
            "bms_bridge_point_last_reading_age_seconds",
            "age of the point's latest stored reading",
            ["point"],
            registry=self.registry,
        )

        self.service = Gauge(
            "bms_bridge_service",
            "the running service's counters: readings received, written, duplicate; writer queue and failed"
            " attempts; while the database fails: writer_store_state (0 ok, 1 failing, 2 replaying),"
            " writer_buffered_readings (memory), writer_journal_readings, writer_journal_bytes,"
            " writer_readings_dropped",
            ["counter"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "bms_bridge_export_outbox", "statement versions in the delivery outbox", ["state"], registry=self.registry
        )

    def render(
        self,
        health: list[DeviceHealth],
        ages: dict[str, float],
        service: Mapping[str, float] | None = None,
        outbox: Mapping[str, int] | None = None,
    ) -> bytes:
        for name, value in (service or {}).items():
            self.service.labels(name).set(value)
        for outbox_state, count in (outbox or {}).items():
            self.outbox.labels(outbox_state).set(count)
        for state in health:
            self.device_online.labels(state.device_id).set(1 if state.online else 0)
            self.device_errors.labels(state.device_id).set(state.error_count)
        for point_id, age in ages.items():
            self.readings_age.labels(point_id).set(age)
        return generate_latest(self.registry)
