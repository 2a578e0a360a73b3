"""Stored records that are not readings (the types live in the core; the store keeps them)."""

from __future__ import annotations

from metering.events import Event

__all__ = ["Event"]
