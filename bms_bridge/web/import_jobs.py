"""Manual meter readings uploaded from the import page, checked and stored as a background job.

The page reads the CSV file (the format of `bms-bridge import-readings`, `metering.manual_import`)
and posts its text to POST /api/v1/jobs as {"kind": "import", "name": ..., "csv": ...}; the job
runs `bms_bridge.manual_import.import_content`, all rows or none, and its progress is the rows
checked, then storing. A refused file is a finished job whose result lists every refusal by line
and stores nothing, as the CLI does. A stored import is in the audit log by the user's name.
Bodies beyond `MAX_BODY` are refused with 413 before they are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from billing_export.store import StatementStore
from bms_bridge.manual_import import import_content
from bms_bridge.web.auth import scope_of
from bms_bridge.web.context import WebContext, context
from bms_bridge.web.jobs import Outcome, Work
from bms_bridge.web.params import BadRequest
from bms_bridge.web.roles import Permission
from metering.progress import Progress

routes = web.RouteTableDef()
MAX_BODY = 1024**2  # the app's client_max_size: a CSV of manual readings is a few kB
DEFAULT_NAME = "upload.csv"


def refuse_large(request: web.Request) -> None:
    """413 from the declared length, before a byte is read (aiohttp stops a chunked body at the bound)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BODY,
            actual_size=request.content_length,
            reason=f"body larger than {MAX_BODY} bytes; split the CSV file",
        )


def file_name(body: dict[str, Any]) -> str:
    name = body.get("name", DEFAULT_NAME)
    if not isinstance(name, str) or len(name) > 200:
        raise BadRequest('"name" is the file\'s name, at most 200 characters')
    return Path(name.replace("\\", "/")).name or DEFAULT_NAME  # a name, never a path of ours


def csv_bytes(body: dict[str, Any]) -> bytes:
    text = body.get("csv")
    if not isinstance(text, str):
        raise BadRequest('give "csv": the file\'s text (UTF-8)')
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape: not text a file could hold
        raise BadRequest('"csv" is not valid UTF-8 text') from None


def import_work(ctx: WebContext, name: str, content: bytes, by: str) -> Work:
    async def work(progress: Progress) -> Outcome:
        checked = [0, 0]

        def listen(done: int, total: int, label: str) -> None:
            if label == "checking rows":
                checked[:] = [done, total]
            progress(done, total, label)

        result = await import_content(
            ctx.site, ctx.queries.store, content, Path(name), now=ctx.clock(), progress=listen
        )
        if result.ok:
            await StatementStore(ctx.queries.store).record(
                by=by,
                action="import readings",
                statement_id=None,
                detail={"file": name, "stored": result.inserted, "already_present": result.already_present},
            )
        return Outcome(
            {
                "file": name,
                "rows": checked[1],
                "checked": checked[0],
                "stored": result.inserted,
                "already_present": result.already_present,
                "refused": [{"line": e.line, "message": e.message} for e in result.errors],
                "messages": list(result.messages),
            }
        )

    return work


@routes.get("/import")
@aiohttp_jinja2.template("import.html")
async def import_page(request: web.Request) -> dict[str, Any]:
    scope_of(request).require(Permission.IMPORT_READINGS)
    return {"title": "Import readings", "max_body": MAX_BODY, "example": _example(context(request))}


def _example(ctx: WebContext) -> str:
    """A header and one row for a point of this site, so the format is shown with a real id."""
    point = next((p for p in ctx.site.model.points if not p.is_virtual), None)
    point_id = point.id if point else "POINT-ID"
    return f"point,timestamp,value,note\n{point_id},2025-03-01T08:00:00+01:00,1234.5,read by caretaker"
