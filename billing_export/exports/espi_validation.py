"""Check a Green Button feed: against the ESPI and Atom schemas (lxml), and for what they cannot say.

The schemas in espi_schema/ are the NAESB ESPI 3.3 usage schema and the Green Button Alliance's
Atom profile (both Apache-2.0), with the Atom profile's import of the W3C xml: schema pointed at a
local copy so validation works offline; espi.xsd imports both. Atom's `content` admits elements of
other namespaces strictly, so every ESPI resource inside an entry is validated as well.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

SCHEMA_DIR = Path(__file__).with_name("espi_schema")
_UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_NS = {"atom": "http://www.w3.org/2005/Atom", "espi": "http://naesb.org/espi"}


@cache
def _schema() -> Any:
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "espi.xsd")))


def espi_problems(data: bytes) -> list[str]:
    """Every problem of the feed, each as "line N: message"; empty when the feed is valid."""
    try:
        document = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        return [f"line {error.lineno}: {error.msg}"]
    schema = _schema()
    problems = [] if schema.validate(document) else [f"line {e.line}: {e.message}" for e in schema.error_log]
    for element in document.iterfind(".//atom:id", _NS):
        if not _UUID_URN.match(element.text or ""):
            problems.append(f"line {element.sourceline}: Atom id {element.text!r} is not a urn:uuid")
    seen: dict[str, int] = {}
    for element in document.iterfind(".//espi:IntervalReading/espi:timePeriod/espi:start", _NS):
        start = element.text or ""
        if start in seen:
            problems.append(f"line {element.sourceline}: a second IntervalReading starts at {start}")
        seen[start] = element.sourceline
    return problems
