"""The demo site, loaded once per test session (loading is pure; nothing is written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms_bridge.simulate import LoadModel
from metering.profiles import builtin_profiles
from point_mapping.loader import LoadedSite, load_site

DEMO = Path(__file__).resolve().parents[2] / "sites" / "demo"


@pytest.fixture(scope="session")
def demo() -> LoadedSite:
    return load_site(DEMO, builtin_profiles())


@pytest.fixture
def model(demo: LoadedSite) -> LoadModel:
    return LoadModel(demo.model)
