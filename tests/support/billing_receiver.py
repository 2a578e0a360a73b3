"""A billing system for the delivery tests, run as a separate process:

    python -m tests.support.billing_receiver --port 8123 --secret-env KEY --record accepted.jsonl

POST /statements checks the HMAC signature independently of our signing code (the recipe in
docs/billing-delivery.md), keeps the first body per Idempotency-Key and answers a repeat with 409 and
the first receipt. What it accepted is appended to the record file and read back on start, so a
receiver that was stopped ("down for hours") and started again still knows every key.

Faults are scripted through POST /control/script, a JSON list consumed one per statement request:
{"status": 500} · {"status": 429, "retry_after": "120"} · {"status": 422, "text": "..."} ·
{"delay": 2.0} (slow, then handled normally) · {"accept_then_delay": 30} (booked, answer late) ·
{"drop": true} (connection closed without an answer).
GET /control/requests lists every statement request; GET /control/accepted what was booked.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

from aiohttp import web


class Receiver:
    def __init__(self, secret: bytes, record: Path, tolerance: int) -> None:
        self.secret = secret
        self.record = record
        self.tolerance = tolerance
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.accepted: dict[str, dict[str, Any]] = {}
        if record.exists():
            for line in record.read_text().splitlines():
                booked = json.loads(line)
                self.accepted[booked["key"]] = booked

    def signature_ok(self, request: web.Request, body: bytes) -> bool:
        stamp = request.headers.get("X-BMS-Timestamp", "")
        given = request.headers.get("X-BMS-Signature", "")
        if not stamp.isdigit():
            return False
        if self.tolerance and abs(time.time() - int(stamp)) > self.tolerance:
            return False
        expected = hmac.new(self.secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, given)

    async def statements(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        key = request.headers.get("Idempotency-Key", "")
        seen: dict[str, Any] = {"key": key, "body": body.decode(), "signature_ok": self.signature_ok(request, body)}
        self.requests.append(seen)
        behaviour = self.script.pop(0) if self.script else {}
        seen["behaviour"] = behaviour
        if behaviour.get("drop"):
            assert request.transport is not None
            request.transport.close()
            seen["status"] = None
            return web.Response()
        if "delay" in behaviour:
            await asyncio.sleep(float(behaviour["delay"]))
        if "status" in behaviour:
            seen["status"] = behaviour["status"]
            headers = {"Retry-After": str(behaviour["retry_after"])} if "retry_after" in behaviour else {}
            return web.Response(status=behaviour["status"], text=behaviour.get("text", ""), headers=headers)
        if not seen["signature_ok"]:
            seen["status"] = 401
            return web.json_response({"error": "bad signature"}, status=401)
        if not key:
            seen["status"] = 400
            return web.json_response({"error": "Idempotency-Key missing"}, status=400)
        if key in self.accepted:
            seen["status"] = 409
            return web.json_response(self.accepted[key]["receipt"], status=409)
        receipt = {"receipt_id": f"R-{len(self.accepted) + 1:04d}", "idempotency_key": key}
        booked = {"key": key, "body": body.decode(), "receipt": receipt}
        self.accepted[key] = booked
        with self.record.open("a") as out:
            out.write(json.dumps(booked) + "\n")
        seen["status"] = 201
        if "accept_then_delay" in behaviour:
            await asyncio.sleep(float(behaviour["accept_then_delay"]))
        return web.json_response(receipt, status=201)

    async def add_script(self, request: web.Request) -> web.Response:
        self.script.extend(await request.json())
        return web.json_response({"queued": len(self.script)})

    async def list_requests(self, _request: web.Request) -> web.Response:
        return web.json_response(self.requests)

    async def list_accepted(self, _request: web.Request) -> web.Response:
        return web.json_response(list(self.accepted.values()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret-env", required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--tolerance", type=int, default=0, help="seconds; 0 accepts any timestamp")
    args = parser.parse_args()
    receiver = Receiver(os.environ[args.secret_env].encode(), args.record, args.tolerance)
    app = web.Application()
    app.router.add_post("/statements", receiver.statements)
    app.router.add_post("/control/script", receiver.add_script)
    app.router.add_get("/control/requests", receiver.list_requests)
    app.router.add_get("/control/accepted", receiver.list_accepted)
    # a short grace at stop: a handler sleeping in "accept_then_delay" must not hold the test up
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, handle_signals=True, shutdown_timeout=0.5)


if __name__ == "__main__":
    main()
