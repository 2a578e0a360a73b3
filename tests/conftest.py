"""Fixtures shared across test folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

MINIMAL_SITE = Path(__file__).resolve().parent / "point_mapping" / "sites" / "minimal"


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """A writable copy of the minimal valid site: main.energy (M-MAIN, CT × 40), a1-01/a1-02.energy,
    main.power, and the virtual common.energy = main − a1-01 − a1-02."""
    target = tmp_path / "site"
    shutil.copytree(MINIMAL_SITE, target)
    return target


@pytest.fixture
def edit(site_dir: Path) -> Callable[[str, str, str], Path]:
    """Replace text in one file of the copied site; fails if the text is not there (keeps tests honest)."""

    def _edit(file: str, old: str, new: str) -> Path:
        path = site_dir / file
        text = path.read_text()
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1))
        return path

    return _edit
