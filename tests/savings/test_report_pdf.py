"""`report --pdf`: a real PDF with the charts, on the tiny site with a known 15 % saving.

No PDF library is a dependency, so the file is checked by its structure (PDF 1.x header, cross-reference
table, trailer, one page object per page) and by the text drawn in its (Flate-compressed) page streams:
matplotlib embeds TrueType fonts with an identity-style encoding, so the strings in the `Tj`/`TJ`
operators are the glyph ids of the characters; we compare against the same string encoded that way.
"""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from pathlib import Path

import pytest

from bms_bridge.cli import main
from tests.savings.synthetic import series
from tests.savings.test_cli_savings import DE_2025, MEASURE, _fill, site  # noqa: F401 - the fixture

STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
TJ = re.compile(rb"\[(.*?)\]\s*TJ", re.S)
LITERAL = re.compile(rb"\(((?:\\.|[^\\)])*)\)", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(literal):
        if literal[i : i + 1] == b"\\" and i + 1 < len(literal):
            octal = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            nxt = literal[i + 1 : i + 2]
            out += ESCAPES.get(nxt, nxt)
            i += 2
            continue
        out += literal[i : i + 1]
        i += 1
    return bytes(out)


def _texts(content: bytes) -> list[str]:
    """The strings drawn by TJ operators; each character is its 2-byte code (UTF-16BE for these fonts)."""
    return [
        b"".join(_unescape(m) for m in LITERAL.findall(block)).decode("utf-16-be", errors="replace")
        for block in TJ.findall(content)
    ]


def _text_streams(pdf: bytes) -> bytes:
    found = []
    for raw in STREAM.findall(pdf):
        try:
            found.append(zlib.decompress(raw))
        except zlib.error:
            found.append(raw)
    return b"\n".join(found)


def test_the_pdf_report_has_pages_charts_and_the_figures(
    site: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uses, _ = series(365, saving_from=MEASURE, saving=0.15, holidays=DE_2025)
    url = f"sqlite:///{tmp_path / 's.db'}"
    asyncio.run(_fill(url, [(u.day, u.value) for u in uses]))
    out = tmp_path / "report.pdf"
    assert main(["--db", url, "report", str(site), "--year", "2025", "--json", "--pdf", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    assert b"xref" in pdf and b"trailer" in pdf
    # site page, one page of site charts, one of the building's, the measure, the method
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert pages == 5
    assert re.search(rb"/Count 5\b", pdf)
    assert f"/Title ({report['name']}: report 2025)".encode() in pdf
    content = _text_streams(pdf)
    texts = _texts(content)
    joined = "\n".join(texts)
    # the chart titles, the figures and the measure's result, as drawn
    assert "Site: electricity per month" in texts
    # "ffi" in "office" is drawn as one ligature glyph, apart from the text around it
    assert "led-o" in texts and any(t.endswith("ce-1: electricity, from 2025-10-01") for t in texts)
    saved_line = next(t for t in texts if t.startswith("Saved "))
    assert f"{report['measures'][0]['savings']['savings']:,.0f}" in saved_line
    assert "CV(RMSE)" in joined and "Method" in texts and "this year" in texts
    total = report["site_total"]["resources"][0]
    assert any(t.startswith(f"{total['total']:,.1f}") for t in texts), texts
    # bar charts: filled rectangles ('re' ... 'f') in the chart pages, two series (this year, year before)
    assert content.count(b" re\n") + content.count(b" re ") > 12
    saved = report["measures"][0]["savings"]
    assert saved["savings_pct"] == pytest.approx(15, abs=1.5)
    assert b"/FontFile2" in pdf  # TrueType embedded: text is text, not outlines
