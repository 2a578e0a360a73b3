"""A period's close or export started from the billing page, run as a background job the page polls.

POST /api/v1/jobs starts one (roles with `review_billing`; a browser sends its CSRF token in
X-CSRF-Token), GET /api/v1/jobs/{id} tells its state and progress, GET /api/v1/jobs/{id}/file gives
an export's file. The same endpoints run a reading import (`import_jobs`, roles with
`import_readings`); each job is seen by the roles that may start its kind. Tenants can neither start
nor see jobs. The close writes its audit entry by the
user's name (as `bms-bridge close --by` does); an export from the page is audited as `export`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from billing_export.period import Period
from billing_export.store import StatementStore
from bms_bridge.billing.hooks import close_in_store
from bms_bridge.commands.export import build_files, statements_for
from bms_bridge.web.auth import scope_of, user_of
from bms_bridge.web.billing import json_body
from bms_bridge.web.context import WebContext, context
from bms_bridge.web.import_jobs import csv_bytes, file_name, import_work, refuse_large
from bms_bridge.web.jobs import Job, JobFile, Outcome, Work
from bms_bridge.web.params import BadRequest
from bms_bridge.web.roles import Permission
from bms_bridge.web.scope import Forbidden, NotVisible, Scope
from metering.progress import Progress

routes = web.RouteTableDef()
KINDS = ("close", "export", "import")
JOB_PERMISSIONS = (Permission.REVIEW_BILLING, Permission.IMPORT_READINGS)
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def job_json(job: Job, zone: Any) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "period": job.period,
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "label": job.label,
        "started_by": job.started_by,
        "started_at": job.started_at.astimezone(zone).isoformat(),
        "finished_at": job.finished_at.astimezone(zone).isoformat() if job.finished_at else None,
        "result": job.result,
        "error": job.error,
    }


def _close_work(ctx: WebContext, period: Period, by: str) -> Work:
    async def work(progress: Progress) -> Outcome:
        summary = await close_in_store(ctx.site, ctx.queries.store, period, by=by, now=ctx.clock(), progress=progress)
        created = [c.stored.id for c in summary.statements if c.created]
        return Outcome(
            {
                "period": summary.period,
                "created": len(created),
                "kept": len(summary.statements) - len(created),
                "statements": [c.stored.id for c in summary.statements],
            }
        )

    return work


def _export_work(ctx: WebContext, period: Period, kind: str, by: str) -> Work:
    async def work(progress: Progress) -> Outcome:
        name = f"{ctx.site.model.site.id}_{period}.{kind}"
        files = await build_files(ctx.site, ctx.queries.store, period, kind, Path(name), progress)
        data = files[Path(name)]
        exported, _versions = await statements_for(ctx.site, ctx.queries.store, period)
        await StatementStore(ctx.queries.store).record(
            by=by, action="export", statement_id=None, detail={"period": str(period), "format": kind, "file": name}
        )
        return Outcome(
            {"period": str(period), "format": kind, "file": name, "bytes": len(data), "statements": len(exported)},
            JobFile(name, FORMATS[kind], data),
        )

    return work


@routes.post("/api/v1/jobs")
async def start_job(request: web.Request) -> web.Response:
    """Body: {"kind": "close", "period": "2026-11"}, {"kind": "export", "period": ..., "format": "csv"}
    or {"kind": "import", "name": "readings.csv", "csv": "point,timestamp,value\n..."}."""
    ctx, scope = context(request), scope_of(request)
    _require_any(scope)  # before the body is looked at
    refuse_large(request)
    body = await json_body(request)
    kind, text, kind_format = body.get("kind"), body.get("period"), body.get("format", "csv")
    if kind not in KINDS:
        raise BadRequest('give "kind": "close", "export" or "import"')
    by = user_of(request).name
    if kind == "import":
        scope.require(Permission.IMPORT_READINGS)
        name, content = file_name(body), csv_bytes(body)
        job = ctx.jobs.start("import", "", by, import_work(ctx, name, content, by))
        return _started(job, ctx)
    scope.require(Permission.REVIEW_BILLING)
    if not isinstance(text, str):
        raise BadRequest('give "period": "YYYY-MM"')
    try:
        period = Period.parse(text, ctx.queries.zone)
        period.end  # noqa: B018 - month 13 or year 9999 fail here, not in the job
    except ValueError:
        raise BadRequest(f"period {text!r} is not a month; write YYYY-MM") from None
    if kind == "close":
        job = ctx.jobs.start("close", str(period), by, _close_work(ctx, period, by))
    else:
        if kind_format not in FORMATS:
            raise BadRequest('"format" is csv or xlsx (json and espi feeds: bms-bridge export)')
        job = ctx.jobs.start(f"export {kind_format}", str(period), by, _export_work(ctx, period, kind_format, by))
    return _started(job, ctx)


def _started(job: Job, ctx: WebContext) -> web.Response:
    return web.json_response(
        job_json(job, ctx.queries.zone), status=202, headers={"Location": f"/api/v1/jobs/{job.id}"}
    )


def _require_any(scope: Scope) -> None:
    if not any(scope.allows(p) for p in JOB_PERMISSIONS):
        raise Forbidden(f"the {scope.role.value} role may not start or see jobs")


def _job(request: web.Request) -> Job:
    scope = scope_of(request)
    _require_any(scope)
    job = context(request).jobs.get(request.match_info["job_id"])
    if job is None:
        raise NotVisible(f"no job {request.match_info['job_id']!r}")
    # a job of a kind the role may not start is as unknown to it as a wrong id
    needed = Permission.IMPORT_READINGS if job.kind == "import" else Permission.REVIEW_BILLING
    if not scope.allows(needed):
        raise NotVisible(f"no job {job.id!r}")
    return job


@routes.get("/api/v1/jobs/{job_id}")
async def get_job(request: web.Request) -> web.Response:
    return web.json_response(job_json(_job(request), context(request).queries.zone))


@routes.get("/api/v1/jobs/{job_id}/file")
async def job_file(request: web.Request) -> web.Response:
    job = _job(request)
    if job.file is None:
        raise NotVisible(f"job {job.id} has no file (yet)")
    return web.Response(
        body=job.file.data,
        content_type=job.file.content_type.split(";")[0],
        charset="utf-8" if "charset" in job.file.content_type else None,
        headers={"Content-Disposition": f'attachment; filename="{job.file.name}"'},
    )
