"""Errors of the OPC UA adapter."""

from __future__ import annotations


class OpcUaServerError(RuntimeError):
    """The server cannot start (endpoint not bindable, bad certificate) or a point cannot be exposed."""
