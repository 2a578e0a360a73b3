"""Independent peers installed into .peers/ (skipped with a how-to unless BMS_BRIDGE_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.services import services_required

REPO = Path(__file__).resolve().parents[2]
BACPY_PYTHON = REPO / ".peers" / "bacpy" / "bin" / "python"


def require_bacpy() -> Path:
    """The bac-py venv's interpreter (Python >= 3.13), or skip/fail with how to get it."""
    if BACPY_PYTHON.exists() and os.access(BACPY_PYTHON, os.X_OK):
        return BACPY_PYTHON
    message = (
        f"bac-py client not installed ({BACPY_PYTHON}); install it with: "
        '"$(pyenv root)"/versions/3.13.*/bin/python3 -m venv .peers/bacpy && .peers/bacpy/bin/pip install bac-py==1.5.7'
    )
    if services_required():
        pytest.fail(message)
    pytest.skip(message)
