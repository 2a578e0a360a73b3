"""The OpenAPI 3 description of /api/v1/, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

VERSION = "1.0.0"

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 in the site's zone, with offset"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def _param(
    name: str, description: str, *, where: str = "query", required: bool = False, **schema: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


POINT_ID = _param(
    "point_id",
    "metering point id",
    where="path",
    required=True,
    type="string",
    pattern="^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
    maxLength=80,
)
# an empty value means "the default", as a cleared date field in a form sends it
_EMPTY: dict[str, Any] = {"type": "string", "maxLength": 0}
_DAY_OR_TIME: dict[str, Any] = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}, _EMPTY]
}
RANGE = [
    _param(
        "from",
        "first day YYYY-MM-DD (site time) or ISO 8601 time; default: the range's length before `to`",
        **_DAY_OR_TIME,
    ),
    _param("to", "last day YYYY-MM-DD, inclusive, or ISO 8601 time (exclusive); default: now", **_DAY_OR_TIME),
]
FORMAT = _param("format", "json (default) or csv (a download)", enum=["json", "csv"])

RESOURCE = _param("resource", "electricity (default), cold_water, heat, ...", type="string")
PROFILE_FIELDS: dict[str, Any] = {
    "slots": {"type": "array", "items": {"type": "string"}},
    "working_day": {"type": "array", "items": _NUMBER_OR_NULL},
    "weekend_holiday": {"type": "array", "items": _NUMBER_OR_NULL},
    "working_days": {"type": "integer"},
    "weekend_holiday_days": {"type": "integer"},
}
HEATMAP_FIELDS: dict[str, Any] = {
    "days": {"type": "array", "items": {"type": "string", "format": "date"}},
    "hours": {"type": "array", "items": {"type": "integer"}},
    "values": {"type": "array", "items": {"type": "array", "items": _NUMBER_OR_NULL}},
}
TENANT_CHART: dict[str, Any] = {
    "tenant": {"type": "string"},
    "resource": {"type": "string"},
    "unit": {"type": "string"},
    "from": _TIME,
    "to": _TIME,
}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": {"type": "string"}}),
    "Point": _obj(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "resource": {"type": "string"},
            "unit": {"type": "string"},
            "series_unit": {"type": "string", "description": "unit of chart values, e.g. 'kWh per 15 min'"},
            "cumulative": {"type": "boolean"},
            "virtual": {"type": "boolean"},
        }
    ),
    "LastValue": {
        "type": ["object", "null"],
        "properties": {
            "time": _TIME,
            "value": {"type": "number"},
            "unit": {"type": "string"},
            "quality": {"type": "string"},
        },
    },
    "Event": _obj(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "subject": {"type": "string"},
            "severity": {"type": "string"},
            "title": {"type": "string"},
            "started_at": _TIME,
            "ended_at": _TIME_OR_NULL,
            "energy": _NUMBER_OR_NULL,
            "energy_unit": {"type": ["string", "null"]},
            "cost": {"type": ["string", "number", "null"]},
            "currency": {"type": ["string", "null"]},
            "acknowledged_by": {"type": ["string", "null"]},
            "acknowledged_at": _TIME_OR_NULL,
            "acknowledgement_comment": {"type": ["string", "null"]},
        }
    ),
    "Series": _obj(
        {
            "point": _ref("Point"),
            "kind": {"type": "string", "enum": ["consumption", "reading"]},
            "unit": {"type": "string"},
            "from": _TIME,
            "to": _TIME,
            "stored": {"type": "integer", "description": "values stored in the range"},
            "downsampled": {"type": "boolean"},
            "aggregated": {
                "type": "boolean",
                "description": "beyond 50,000 stored values: minimum and maximum per bucket, at the bucket's middle",
            },
            "times": {"type": "array", "items": _TIME},
            "values": {"type": "array", "items": {"type": "number"}},
            "qualities": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "Profile": _obj(
        {
            "point": _ref("Point"),
            "unit": {"type": "string"},
            "from": _TIME,
            "to": _TIME,
            "slots": {"type": "array", "items": {"type": "string"}},
            "working_day": {"type": "array", "items": _NUMBER_OR_NULL},
            "weekend_holiday": {"type": "array", "items": _NUMBER_OR_NULL},
            "working_days": {"type": "integer"},
            "weekend_holiday_days": {"type": "integer"},
        }
    ),
    "Comparison": _obj(
        {
            "resource": {"type": "string"},
            "unit": {"type": "string"},
            "periods": {
                "type": "array",
                "items": _obj(
                    {
                        "period": {"type": "string"},
                        "compared_as": {"type": "string", "enum": ["this", "previous", "year before"]},
                        "start": _TIME,
                        "end": _TIME,
                        "to_date": {"type": "boolean"},
                        "value": _NUMBER_OR_NULL,
                    }
                ),
            },
        }
    ),
    "BreakdownLine": _obj(
        {
            "contract": {"type": "string"},
            "point": _ref("Point"),
            "space": {"type": ["string", "null"]},
            "share_percent": {"type": "number"},
            "value": _NUMBER_OR_NULL,
            "unit": {"type": "string"},
        }
    ),
    "HeatMap": _obj(
        {
            "point": _ref("Point"),
            "unit": {"type": "string"},
            "from": _TIME,
            "to": _TIME,
            "days": {"type": "array", "items": {"type": "string", "format": "date"}},
            "hours": {"type": "array", "items": {"type": "integer"}},
            "values": {"type": "array", "items": {"type": "array", "items": _NUMBER_OR_NULL}},
        }
    ),
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "bad parameters",
        401: "not logged in / bad token",
        403: "role may not",
        404: "not found (or not yours)",
        413: "body too large",
    }
    return {str(s): _json(_ref("Error"), text[s]) for s in statuses}


def _get(
    summary: str, ok: dict[str, Any], parameters: list[dict[str, Any]] | None = None, errors: tuple[int, ...] = (401,)
) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": parameters or [], "responses": {"200": ok, **_errors(*errors)}}}


def _with_csv(schema: dict[str, Any]) -> dict[str, Any]:
    ok = _json(schema)
    ok["content"]["text/csv"] = {"schema": {"type": "string"}}
    return ok


PATHS: dict[str, Any] = {
    "/api/v1/me": _get(
        "the caller",
        _json(_obj({"name": {"type": "string"}, "role": {"type": "string"}, "tenant": {"type": ["string", "null"]}})),
    ),
    "/api/v1/points": _get(
        "points the caller may see, with their latest value",
        _json(
            _obj(
                {
                    "points": {
                        "type": "array",
                        "items": {"allOf": [_ref("Point")], "properties": {"last": _ref("LastValue")}},
                    }
                }
            )
        ),
    ),
    "/api/v1/points/{point_id}/series": _get(
        "15-minute consumption (running totals) or readings (instantaneous), downsampled to max_points "
        "keeping each bucket's minimum and maximum",
        _with_csv(_ref("Series")),
        [
            POINT_ID,
            *RANGE,
            _param("max_points", "at most this many points (default 2000)", type="integer", minimum=4, maximum=100000),
            FORMAT,
        ],
        (400, 401, 404),
    ),
    "/api/v1/points/{point_id}/profile": _get(
        "average working day and weekend/holiday day per quarter hour",
        _with_csv(_ref("Profile")),
        [POINT_ID, *RANGE, FORMAT],
        (400, 401, 404),
    ),
    "/api/v1/points/{point_id}/heatmap": _get(
        "consumption per local day and hour",
        _with_csv(_ref("HeatMap")),
        [POINT_ID, *RANGE, FORMAT],
        (400, 401, 404),
    ),
    "/api/v1/compare": _get(
        "a month against the month before and the same month a year before (to date while it runs), per "
        "resource, for one point, one tenant (shares and leases applied) or one resource",
        _with_csv(_obj({"month": {"type": "string"}, "comparisons": {"type": "array", "items": _ref("Comparison")}})),
        [
            _param("point", "a cumulative point", type="string"),
            _param("tenant", "a tenant id", type="string"),
            _param("resource", "electricity, cold_water, ...", type="string"),
            _param("month", "YYYY-MM (default: this month)", type="string"),
            FORMAT,
        ],
        (400, 401, 404),
    ),
    "/api/v1/tenants/{tenant_id}/breakdown": _get(
        "a tenant's consumption per contract point within its leases, shares applied",
        _with_csv(
            _obj(
                {
                    "tenant": {"type": "string"},
                    "from": _TIME,
                    "to": _TIME,
                    "lines": {"type": "array", "items": _ref("BreakdownLine")},
                }
            )
        ),
        [_param("tenant_id", "tenant id", where="path", required=True), *RANGE, FORMAT],
        (400, 401, 404),
    ),
    "/api/v1/tenants/{tenant_id}/profile": _get(
        "a tenant's average working day and weekend/holiday day for one resource (shares and leases applied)",
        _with_csv(_obj({**TENANT_CHART, **PROFILE_FIELDS})),
        [_param("tenant_id", "tenant id", where="path", required=True), RESOURCE, *RANGE, FORMAT],
        (400, 401, 404),
    ),
    "/api/v1/tenants/{tenant_id}/heatmap": _get(
        "a tenant's consumption per local day and hour for one resource (shares and leases applied)",
        _with_csv(_obj({**TENANT_CHART, **HEATMAP_FIELDS})),
        [_param("tenant_id", "tenant id", where="path", required=True), RESOURCE, *RANGE, FORMAT],
        (400, 401, 404),
    ),
    "/api/v1/tenants/{tenant_id}/peers": _get(
        "the tenant's consumption per m² of leased area against tenants whose spaces have the same main use; "
        "a tenant sees anonymous figures only, and none with fewer than three similar tenants",
        _with_csv(
            _obj(
                {
                    "tenant": {"type": "string"},
                    "use": {"type": ["string", "null"]},
                    "resource": {"type": "string"},
                    "unit": {"type": "string"},
                    "month": {"type": "string"},
                    "withheld": {"type": "boolean"},
                    "figures": {
                        "type": "array",
                        "items": _obj(
                            {
                                "tenant": {"type": ["string", "null"]},
                                "name": {"type": ["string", "null"]},
                                "per_m2": _NUMBER_OR_NULL,
                                "own": {"type": "boolean"},
                            }
                        ),
                    },
                }
            )
        ),
        [
            _param("tenant_id", "tenant id", where="path", required=True),
            _param("month", "YYYY-MM (default: this month)", type="string"),
            _param("resource", "default electricity", type="string"),
            FORMAT,
        ],
        (400, 401, 404),
    ),
    "/api/v1/overview": _get("today's consumption, load now, device health, open events", _json({"type": "object"})),
    "/api/v1/events": _get(
        "events the caller may see",
        _json(_obj({"events": {"type": "array", "items": _ref("Event")}})),
        [
            _param(
                "since",
                "only events from this day on (YYYY-MM-DD)",
                anyOf=[{"type": "string", "format": "date"}, _EMPTY],
            )
        ],
        (400, 401),
    ),
    "/api/v1/events/{event_id}": _get(
        "one event with its evidence (format=csv: the evidence as time, point, value)",
        _with_csv(
            {
                "allOf": [_ref("Event")],
                "properties": {
                    "evidence": {
                        "type": "array",
                        "items": _obj({"time": _TIME, "values": {"type": "object"}}),
                    },
                    "tenants": {"type": "array", "items": {"type": "string"}},
                    "details": {"type": "object"},
                },
                "required": ["evidence", "tenants", "details"],
            }
        ),
        [_param("event_id", "event id", where="path", required=True, type="integer"), FORMAT],
        (400, 401, 404),
    ),
    "/api/v1/events/{event_id}/acknowledge": {
        "post": {
            "summary": "acknowledge an event (it stays open until its condition clears); roles with acknowledge",
            "parameters": [_param("event_id", "event id", where="path", required=True, type="integer")],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {"schema": _obj({"comment": {"type": "string", "maxLength": 2000}}, [])}
                },
            },
            "responses": {"200": _json(_ref("Event")), **_errors(400, 401, 403, 404)},
        }
    },
    "/api/v1/devices": _get(
        "devices, their health and their points' mapping status (not for tenants)",
        _json(_obj({"devices": {"type": "array", "items": {"type": "object"}}})),
        errors=(401, 403),
    ),
    "/api/v1/tenants": _get(
        "tenants the caller may see", _json(_obj({"tenants": {"type": "array", "items": {"type": "object"}}}))
    ),
    "/api/v1/tenants/{tenant_id}": _get(
        "a tenant's contracts and points",
        _json({"type": "object"}),
        [_param("tenant_id", "tenant id", where="path", required=True)],
        (401, 404),
    ),
}


_STATEMENT_ID = _param("statement_id", "site:period:contract:vN", where="path", required=True, maxLength=200)
_SUMMARY = _obj(
    {
        "id": {"type": "string"},
        "period": {"type": "string"},
        "contract": {"type": "string"},
        "tenant": {"type": "string"},
        "version": {"type": "integer"},
        "state": {"type": "string", "enum": ["draft", "reviewed", "approved", "exported", "superseded"]},
        "currency": {"type": "string"},
        "net": {"type": "string", "description": "Decimal as text"},
        "vat": {"type": "string"},
        "gross": {"type": "string"},
        "created_at": _TIME,
        "state_changed_at": _TIME,
    }
)


def _review_step(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_STATEMENT_ID],
        "responses": {"200": _json(_SUMMARY), **_errors(400, 401, 403, 404)},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return {"post": operation}


PATHS.update(
    {
        "/api/v1/statements": _get(
            "statements the caller may see (a tenant: its own issued ones), newest period first",
            _json(_obj({"statements": {"type": "array", "items": _SUMMARY}})),
            [
                _param("period", "YYYY-MM", type="string"),
                _param("state", "draft, reviewed, approved, exported or superseded", type="string"),
            ],
            (400, 401, 403),
        ),
        "/api/v1/statements/{statement_id}": _get(
            "one statement: its canonical document (docs/exports.md), adjustments, audit log, delivery",
            _json({"type": "object"}),
            [_STATEMENT_ID],
            (401, 403, 404),
        ),
        "/api/v1/statements/{statement_id}/{step}": {
            "post": {
                "summary": "review or approve a statement (roles with review_billing); the workflow refuses skips",
                "parameters": [
                    _STATEMENT_ID,
                    _param("step", "review or approve", where="path", required=True, enum=["review", "approve"]),
                ],
                "responses": {"200": _json(_SUMMARY), **_errors(400, 401, 403, 404)},
            }
        },
        "/api/v1/statements/{statement_id}/adjust": _review_step(
            "change one line's amount or quantity, with a reason; an issued statement gets a new version",
            _obj(
                {
                    "line": {"type": "integer", "minimum": 1},
                    "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                    "amount": {"type": "string"},
                    "quantity": {"type": "string"},
                },
                ["line", "reason"],
            ),
        ),
    }
)


_JOB_ID = _param("job_id", "as returned when the job was started", where="path", required=True, maxLength=100)
_JOB = _obj(
    {
        "id": {"type": "string"},
        "kind": {"type": "string", "enum": ["close", "export csv", "export xlsx", "import"]},
        "period": {"type": "string", "description": "the month closed or exported; empty for an import"},
        "state": {"type": "string", "enum": ["running", "done", "failed"]},
        "done": {"type": "integer", "minimum": 0},
        "total": {"type": "integer", "minimum": 0},
        "percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "label": {"type": "string", "description": "the phase, e.g. 'closing 2026-11'"},
        "started_by": {"type": "string"},
        "started_at": _TIME,
        "finished_at": _TIME_OR_NULL,
        "result": {
            "type": ["object", "null"],
            "description": "close: created, kept, statements; export: file; import: file, rows, checked, stored, "
            "already_present, refused (each {line, message}; nothing stored if any), messages",
        },
        "error": {"type": ["string", "null"]},
    }
)
PATHS.update(
    {
        "/api/v1/jobs": {
            "post": {
                "summary": "start a period's close or export (roles with review_billing), or an import of manual "
                "readings from CSV text (roles with import_readings), in the background; body at most 1 MiB",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _obj(
                                {
                                    "kind": {"type": "string", "enum": ["close", "export", "import"]},
                                    "period": {
                                        "type": "string",
                                        "pattern": "^[0-9]{4}-[0-9]{2}$",
                                        "description": "close and export",
                                    },
                                    "format": {"type": "string", "enum": ["csv", "xlsx"], "description": "export"},
                                    "name": {"type": "string", "maxLength": 200, "description": "import: file name"},
                                    "csv": {
                                        "type": "string",
                                        "description": "import: the file's text, as `bms-bridge import-readings` "
                                        "reads it (docs/web.md, Import)",
                                    },
                                },
                                ["kind"],
                            )
                        }
                    },
                },
                "responses": {"202": _json(_JOB, "started; poll its Location"), **_errors(400, 401, 403, 413)},
            }
        },
        "/api/v1/jobs/{job_id}": _get(
            "a job's state and progress (done of total steps of its phase)",
            _json(_JOB),
            [_JOB_ID],
            (401, 403, 404),
        ),
        "/api/v1/jobs/{job_id}/file": {
            "get": {
                "summary": "the file a finished export job made",
                "parameters": [_JOB_ID],
                "responses": {
                    "200": {
                        "description": "the file",
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                        },
                    },
                    **_errors(401, 403, 404),
                },
            }
        },
    }
)


def spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "bms-bridge API",
            "version": VERSION,
            "description": "Meter data of one site. A tenant's token sees only its own contracts' data.",
        },
        "servers": [{"url": "/"}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "token from `bms-bridge users token`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "bms_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


async def document(request: web.Request) -> web.Response:
    return web.json_response(spec())
