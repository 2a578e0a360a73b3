"""Tariffs, allocation, period close, statements and exporters (to come: see ARCHITECTURE.md)."""
