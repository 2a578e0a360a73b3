"""What a log line is about: the site, device and point the running code works on, as context variables.

Set where the work starts (the service for its site, a poller for its device, the consumption
pipeline for its point); every task and thread started from there inherits them, so a message logged
deep inside a library call still names them. `bms_bridge.log_format` puts them into each record.
Only the standard library: the core sets them too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar, Token

site_var: ContextVar[str | None] = ContextVar("log_site", default=None)
device_var: ContextVar[str | None] = ContextVar("log_device", default=None)
point_var: ContextVar[str | None] = ContextVar("log_point", default=None)


class _Keep:
    """An omitted argument of `log_context`: that name stays as it was."""


KEEP = _Keep()


@contextlib.contextmanager
def log_context(
    *, site: str | _Keep | None = KEEP, device: str | _Keep | None = KEEP, point: str | _Keep | None = KEEP
) -> Iterator[None]:
    """Within the block, log records name these (None clears one; an omitted one stays as it was)."""
    tokens: list[Token[str | None]] = []
    for var, value in ((site_var, site), (device_var, device), (point_var, point)):
        if not isinstance(value, _Keep):
            tokens.append(var.set(value))
    try:
        yield
    finally:
        for token in reversed(tokens):
            token.var.reset(token)


def current() -> dict[str, str]:
    """The known ones of site, device and point, by name."""
    found = {"site": site_var.get(), "device": device_var.get(), "point": point_var.get()}
    return {key: value for key, value in found.items() if value is not None}
