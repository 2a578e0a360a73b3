"""Golden statements: every case in tests/fixtures/billing_*/ closed and compared line by line.

Set BMS_BRIDGE_WRITE_GOLDEN=1 to print what a case produces (to check it by hand before pasting it
into expected.json); the test never writes expected files itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.billing.golden import close_case

FIXTURES = Path(__file__).parent.parent / "fixtures"
CASES = sorted(p for p in FIXTURES.glob("billing_*") if (p / "input.json").exists())


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
async def test_golden_statement(case: Path, tmp_path: Path) -> None:
    actual = await close_case(case, tmp_path)
    if os.environ.get("BMS_BRIDGE_WRITE_GOLDEN"):
        print(json.dumps(actual, indent=2, ensure_ascii=False))
    expected = json.loads((case / "expected.json").read_text())
    expected.pop("arithmetic", None)
    assert actual == expected
