"""Measured savings, forecasts and the owner's report, read from the store (docs/savings.md)."""
