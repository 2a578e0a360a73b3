"""A day-ahead price source for tests, as a process of its own (a real aiohttp server):

    python -m tests.billing.price_server --port 8124 --prices prices.json [--csv]

GET /day-ahead?from=...&to=... answers the rows of `prices.json` (the document of
`billing_export.day_ahead`) whose start lies in [from, to) - as JSON, or as CSV with --csv.
GET /control/requests lists the query of every price request, in order.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prices", type=Path, required=True)
    parser.add_argument("--csv", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = json.loads(args.prices.read_text())["prices"]
    seen: list[dict[str, str]] = []

    async def prices(request: web.Request) -> web.Response:
        seen.append(dict(request.query))
        start = datetime.fromisoformat(request.query["from"])
        end = datetime.fromisoformat(request.query["to"])
        chosen = [r for r in rows if start <= datetime.fromisoformat(r["start"]) < end]
        if args.csv:
            text = "start,zone,price\n" + "".join(f"{r['start']},{r['zone']},{r['price']}\n" for r in chosen)
            return web.Response(text=text, content_type="text/csv")
        return web.json_response({"prices": chosen})

    async def requests(_request: web.Request) -> web.Response:
        return web.json_response(seen)

    app = web.Application()
    app.router.add_get("/day-ahead", prices)
    app.router.add_get("/control/requests", requests)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
