"""Back-off, Retry-After, answer classification, signing and the dead-letter event: numbers by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing_export.outbox import (
    OutboxEntry,
    OutboxInput,
    OutboxState,
    Outcome,
    RetryPolicy,
    classify_response,
    idempotency_key,
    parse_retry_after,
    sign,
    signed_headers,
    verify,
)
from billing_export.outbox.dead_letter import DEAD_LETTER_KIND, dead_letter_event
from billing_export.outbox.selection import ExportCandidate, select_for_delivery
from billing_export.statement import StatementState as St

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_backoff_doubles_from_the_initial_wait_up_to_the_cap() -> None:
    policy = RetryPolicy(initial=30 * S, cap=timedelta(minutes=10), jitter=0.2)
    # 30 s, 60 s, 120 s, 240 s, 480 s, then 960 s is capped at 600 s; the shortest is 80 % of each
    expected = [30, 60, 120, 240, 480, 600, 600]
    for failures, longest in enumerate(expected, start=1):
        assert policy.bounds(failures) == (longest * 0.8 * S, longest * S)
    assert policy.bounds(10_000) == (480 * S, 600 * S)  # no float overflow after many failures


def test_jitter_draw_picks_inside_the_bounds() -> None:
    policy = RetryPolicy(initial=100 * S, cap=timedelta(hours=1), jitter=0.5)
    assert policy.delay(2, 0.0) == 200 * S
    assert policy.delay(2, 0.5) == 150 * S
    assert 100 * S < policy.delay(2, 0.999) < 101 * S
    with pytest.raises(ValueError, match="draw"):
        policy.delay(2, 1.0)


def test_retry_after_longer_than_the_backoff_wins_up_to_its_bound() -> None:
    policy = RetryPolicy(initial=30 * S, jitter=0.0, retry_after_max=timedelta(hours=6))
    assert policy.delay(1, 0.0, retry_after=120 * S) == 120 * S
    assert policy.delay(1, 0.0, retry_after=5 * S) == 30 * S  # never sooner than the back-off
    assert policy.delay(1, 0.0, retry_after=timedelta(days=30)) == timedelta(hours=6)


def test_retry_after_is_read_as_seconds_or_http_date_on_429_and_503_only() -> None:
    assert parse_retry_after(429, "120", NOW) == 120 * S
    assert parse_retry_after(503, "Tue, 01 Dec 2026 06:02:00 GMT", NOW) == 120 * S
    assert parse_retry_after(503, "Tue, 01 Dec 2026 05:00:00 GMT", NOW) == timedelta(0)
    assert parse_retry_after(500, "120", NOW) is None
    assert parse_retry_after(429, "soon", NOW) is None
    assert parse_retry_after(429, None, NOW) is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (409, Outcome.ALREADY_DELIVERED),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (400, Outcome.DEAD),
        (401, Outcome.DEAD),
        (404, Outcome.DEAD),
        (422, Outcome.DEAD),
        (301, Outcome.DEAD),
    ],
)
def test_answers_are_classified(status: int, outcome: Outcome) -> None:
    assert classify_response(status) is outcome


def test_dead_letter_window() -> None:
    policy = RetryPolicy(dead_after=timedelta(days=3))
    assert not policy.expired(NOW, NOW + timedelta(days=3) - S)
    assert policy.expired(NOW, NOW + timedelta(days=3))


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # computed independently: printf '1764568800.{"a":1}' | openssl dgst -sha256 -hmac key
    body = b'{"a":1}'
    assert sign(b"key", 1764568800, body) == "ead22b7a4d97bcefc959f3f3a15dff38c9473160b7d9d25064ca58f8cb9feb37"
    headers = signed_headers(b"key", 1764568800, "S-1:1", body)
    assert headers["X-BMS-Timestamp"] == "1764568800"
    assert headers["Idempotency-Key"] == "S-1:1"
    assert len(headers["X-BMS-Signature"]) == 64
    assert verify(b"key", headers, body)
    assert verify(b"key", headers, body, now=1764568800 + 300)
    assert not verify(b"key", headers, body, now=1764568800 + 301)  # too old: a replay
    assert not verify(b"other", headers, body)
    assert not verify(b"key", headers, body + b" ")
    assert not verify(b"key", {**headers, "X-BMS-Timestamp": "1764568801"}, body)


def test_dead_letter_event_names_the_statement_version() -> None:
    item = OutboxInput("ACME-2026-11", 2, b"{}")
    entry = OutboxEntry(
        7,
        item.statement_id,
        2,
        item.key,
        item.body,
        OutboxState.PENDING,
        5,
        NOW,
        "HTTP 500",
        None,
        NOW - timedelta(days=3),
        None,
    )
    event = dead_letter_event(entry, "undelivered for 3 days", NOW)
    assert idempotency_key("ACME-2026-11", 2) == "ACME-2026-11:2" == item.key
    assert event.kind == DEAD_LETTER_KIND == "export-dead-letter"
    assert event.subject == "ACME-2026-11"
    assert event.dedup_key == "export-dead-letter:ACME-2026-11:2:2026-11-28T06:00:00+00:00"
    assert event.details["attempts"] == 5
    assert "undelivered for 3 days" in event.title


def test_an_input_needs_an_id_and_a_positive_version() -> None:
    with pytest.raises(ValueError, match="version"):
        OutboxInput("S", 0, b"")
    with pytest.raises(ValueError, match="statement id"):
        OutboxInput(" ", 1, b"")


def test_a_statement_id_must_fit_its_column() -> None:
    OutboxInput("S" * 200, 1, b"")
    with pytest.raises(ValueError, match="longer than 200"):
        OutboxInput("S" * 201, 1, b"")


def test_only_approved_statements_are_selected_unless_the_site_auto_approves() -> None:
    candidates = [
        ExportCandidate("A", 1, St.APPROVED, b"a"),
        ExportCandidate("B", 1, St.DRAFT, b"b"),
        ExportCandidate("C", 2, St.REVIEWED, b"c"),
        ExportCandidate("D", 1, St.EXPORTED, b"d"),
        ExportCandidate("E", 1, St.SUPERSEDED, b"e"),
    ]
    manual = select_for_delivery(candidates, auto_approve=False)
    assert [i.key for i in manual.deliver] == ["A:1"]
    assert [c.statement_id for c in manual.held] == ["B", "C"]
    assert manual.approve == ()
    auto = select_for_delivery(candidates, auto_approve=True)
    assert [i.key for i in auto.deliver] == ["A:1", "B:1", "C:2"]
    assert [c.statement_id for c in auto.approve] == ["B", "C"]
    assert auto.held == ()
