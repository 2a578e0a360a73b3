"""Billing review: statements by state, a statement with its lines, adjust with a reason, review,
approve, delivery status; as pages (forms, CSRF-checked by the auth middleware) and as /api/v1/.

Reads and steps go through `StatementReview`, which asks the caller's scope; every step is written to
the append-only audit log by the statement store with the user's name.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from billing_export.exports.statement_json import statement_json
from billing_export.period import Period
from billing_export.statement import StatementState
from billing_export.store import StoredStatement
from bms_bridge.web.auth import scope_of, user_of
from bms_bridge.web.context import context
from bms_bridge.web.params import BadRequest
from bms_bridge.web.roles import Permission
from bms_bridge.web.statements import StatementView

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def _state(request: web.Request) -> StatementState | None:
    text = request.query.get("state") or ""
    if not text:
        return None
    try:
        return StatementState(text)
    except ValueError:
        names = ", ".join(s.value for s in StatementState)
        raise BadRequest(f"unknown state {text!r}; one of {names}") from None


def _period(request: web.Request) -> str | None:
    text = request.query.get("period") or ""
    if not text:
        return None
    try:
        return str(Period.parse(text, context(request).queries.zone))
    except ValueError:
        raise BadRequest(f"period {text!r} is not a month; write YYYY-MM") from None


def summary(stored: StoredStatement, zone: Any) -> dict[str, Any]:
    s = stored.statement
    return {
        "id": stored.id,
        "period": s.period,
        "contract": s.contract,
        "tenant": s.tenant,
        "version": stored.version,
        "state": stored.state.value,
        "currency": s.currency,
        "net": str(s.net),
        "vat": str(s.vat),
        "gross": str(s.gross),
        "created_at": stored.created_at.astimezone(zone).isoformat(),
        "state_changed_at": stored.state_changed_at.astimezone(zone).isoformat(),
    }


def detail(view: StatementView, zone: Any) -> dict[str, Any]:
    stored = view.stored
    delivery = view.delivery
    return {
        **summary(stored, zone),
        "document": statement_json(stored.statement, stored.version),
        "adjustments": [
            None if a is None else {"at": a.at.astimezone(zone).isoformat(), "by": a.by, "reason": a.reason}
            for a in stored.adjustments
        ],
        "audit": [
            {"at": e.at.astimezone(zone).isoformat(), "actor": e.actor, "action": e.action, "detail": dict(e.detail)}
            for e in view.audit
        ],
        "delivery": None
        if delivery is None
        else {
            "state": delivery.state.value,
            "attempts": delivery.attempts,
            "last_error": delivery.last_error,
            "delivered_at": delivery.delivered_at.astimezone(zone).isoformat() if delivery.delivered_at else None,
        },
    }


# -- API ---------------------------------------------------------------------------------------------


@routes.get("/api/v1/statements")
async def api_statements(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    found = await ctx.review.list(scope, period=_period(request), state=_state(request))
    zone = ctx.queries.zone
    return web.json_response({"statements": [summary(s, zone) for s in found]})


@routes.get("/api/v1/statements/{statement_id}")
async def api_statement(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    view = await ctx.review.view(scope, request.match_info["statement_id"])
    return web.json_response(detail(view, ctx.queries.zone))


async def json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("the body must be JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


@routes.post("/api/v1/statements/{statement_id}/{step:review|approve}")
async def api_step(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    user = user_of(request)
    stored = await ctx.review.step(scope, request.match_info["statement_id"], request.match_info["step"], user.name)
    return web.json_response(summary(stored, ctx.queries.zone))


@routes.post("/api/v1/statements/{statement_id}/adjust")
async def api_adjust(request: web.Request) -> web.Response:
    """Body: {"line": 2, "amount": "79.60" | "quantity": "348.000", "reason": "meter read again"}."""
    ctx, scope = context(request), scope_of(request)
    scope.require(Permission.REVIEW_BILLING)  # before the body is looked at
    body = await json_body(request)
    line, reason = body.get("line"), body.get("reason")
    if not isinstance(line, int) or isinstance(line, bool) or not isinstance(reason, str) or not reason.strip():
        raise BadRequest('give {"line": N, "reason": "why", and "amount" or "quantity" as a decimal string}')
    amount, quantity = body.get("amount", ""), body.get("quantity", "")
    if not isinstance(amount, str) or not isinstance(quantity, str):
        raise BadRequest('amount and quantity are decimal strings, e.g. "79.60"')
    stored = await ctx.review.adjust(
        scope, request.match_info["statement_id"], line, user_of(request).name, reason, amount=amount, quantity=quantity
    )
    return web.json_response(summary(stored, ctx.queries.zone))


# -- pages -------------------------------------------------------------------------------------------


@routes.get("/billing")
@aiohttp_jinja2.template("billing.html")
async def billing(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    state = _state(request)
    period = _period(request)
    found = await ctx.review.list(scope, period=period, state=state)
    zone = ctx.queries.zone
    now = ctx.clock().astimezone(zone)
    return {
        "title": "Billing review",
        "last_month": str(Period(now.year, now.month, zone).previous()),
        "can_close": scope.allows(Permission.REVIEW_BILLING),
        "period": period or "",
        "statements": found,
        "state": state.value if state else "",
        "states": [s.value for s in StatementState],
        "quote": quote,
    }


@routes.get("/billing/{statement_id}")
@aiohttp_jinja2.template("statement.html")
async def statement(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    view = await ctx.review.view(scope, request.match_info["statement_id"])
    zone = ctx.queries.zone
    period = Period.parse(view.stored.statement.period, zone)
    return {
        "title": f"Statement {view.stored.id}",
        "view": view,
        "can_review": scope.allows(Permission.REVIEW_BILLING),
        "chart_range": f"from={period.first_day}&to={period.next_first_day - timedelta(days=1)}",
        "quote": quote,
    }


@routes.post("/billing/{statement_id}/{step:review|approve}")
async def step(request: web.Request) -> web.StreamResponse:
    ctx, scope = context(request), scope_of(request)
    user = user_of(request)
    stored = await ctx.review.step(scope, request.match_info["statement_id"], request.match_info["step"], user.name)
    raise web.HTTPSeeOther(f"/billing/{quote(stored.id)}")


@routes.post("/billing/{statement_id}/adjust")
async def adjust(request: web.Request) -> web.StreamResponse:
    ctx, scope = context(request), scope_of(request)
    scope.require(Permission.REVIEW_BILLING)
    form = await request.post()

    def field(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    try:
        line = int(field("line"))
    except ValueError:
        raise BadRequest("choose the line to adjust") from None
    if not field("reason").strip():
        raise BadRequest("an adjustment needs a reason")
    stored = await ctx.review.adjust(
        scope,
        request.match_info["statement_id"],
        line,
        user_of(request).name,
        field("reason"),
        amount=field("amount"),
        quantity=field("quantity"),
    )
    raise web.HTTPSeeOther(f"/billing/{quote(stored.id)}")
