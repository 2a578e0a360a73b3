"""Log output: `text` (the default, for a terminal) or `json` (one object per line, for a log collector).

A JSON line holds ts (UTC, ISO 8601 with milliseconds), level, logger, message and, when known, site,
device and point — from `metering.log_context`, or from a record's `extra={"point": ...}`, which
wins. A traceback goes into `exc` as text, in the same line.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Literal

from metering.log_context import current

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_FORMAT_ENV = "BMS_BRIDGE_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTEXT_FIELDS = ("site", "device", "point")


class ContextFilter(logging.Filter):
    """Copies the site, device and point the code runs for onto each record (a record's own win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current().items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = str(value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def chosen_format(option: str | None) -> LogFormat:
    """The --log-format option, else $BMS_BRIDGE_LOG_FORMAT, else text; ValueError for anything else."""
    value = option or os.environ.get(LOG_FORMAT_ENV) or "text"
    if value not in FORMATS:
        raise ValueError(f"log format {value!r} is not one of {', '.join(FORMATS)} (set by {LOG_FORMAT_ENV})")
    return value


def configure(level: int, log_format: LogFormat = "text") -> None:
    """The root logger's one handler on stderr, in the format asked for."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
