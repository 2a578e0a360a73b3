"""Waiting in tests for something another thread or process does in real time, with a bound."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def until(condition: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 5.0) -> None:
    """Poll `condition` (plain or async) every 10 ms until it holds; fail naming `what` after `seconds`."""
    for _ in range(max(1, int(seconds / 0.01))):
        held = condition()
        if not isinstance(held, bool):
            held = await held
        if held:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")
