"""Exporters: statements as JSON, CSV, XLSX and Green Button ESPI XML (docs/exports.md, docs/espi.md).

Pure functions from `Statement`s (and, for ESPI, a point's 15-minute intervals) to bytes; writing the
bytes somewhere is the caller's business.
"""
