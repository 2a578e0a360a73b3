"""A site with manual meters (one exchanged, one behind a CT), an LPWAN meter and a virtual point."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from metering.store import Store
from point_mapping.loader import LoadedSite, load_site

SITE = """\
site: {id: manual-site, name: Manual site, timezone: Europe/Berlin, currency: EUR}
devices:
  - id: gas-book
    connection: {kind: manual, unit: m3}
  - id: water-book
    connection: {kind: manual, unit: m3}
  - id: power-book
    connection: {kind: manual, unit: kWh}
  - id: hm-1
    connection:
      kind: lpwan
      dev_eui: 0004a30b001c0530
      decoder:
        kind: object
        fields:
          - {name: heat, path: heat, unit: kWh}
          - {name: heat_t2, path: heat_t2, unit: kWh}
meters:
  - {id: GAS-1, device: gas-book, resource: gas}
  - id: WAT-1
    device: water-book
    resource: cold_water
    replacements:
      - {at: "2025-03-15T09:00:00+01:00", old_final: 480.0, new_initial: 0.0}
  - {id: EL-1, device: power-book, resource: electricity, multiplier: 40}
  - {id: HM-1, device: hm-1, resource: heat}
points:
  - {id: GAS-1.volume, meter: GAS-1, register: reading}
  - {id: WAT-1.volume, meter: WAT-1, register: reading}
  - {id: EL-1.energy, meter: EL-1, register: reading, unit: MWh}
  - {id: HM-1.heat, meter: HM-1, register: heat}
  - {id: HM-1.heat_t2, meter: HM-1, register: heat_t2}
  - {id: GAS-total, formula: "{GAS-1.volume}", resource: gas, unit: m3}
"""


@pytest.fixture
def site(tmp_path: Path) -> LoadedSite:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "site.yaml").write_text(SITE)
    return load_site(folder)


@pytest.fixture
def site_with_dial(tmp_path: Path) -> LoadedSite:
    """The same site with an 8-digit water dial read by hand."""
    folder = tmp_path / "dial-site"
    folder.mkdir()
    dial = SITE.replace(
        "  - {id: GAS-1, device: gas-book, resource: gas}\n",
        "  - {id: GAS-1, device: gas-book, resource: gas}\n"
        "  - {id: DIAL-1, device: water-book, resource: cold_water, digits: 8}\n",
    ).replace(
        "  - {id: GAS-1.volume, meter: GAS-1, register: reading}\n",
        "  - {id: GAS-1.volume, meter: GAS-1, register: reading}\n"
        "  - {id: DIAL-1.volume, meter: DIAL-1, register: reading}\n",
    )
    (folder / "site.yaml").write_text(dial)
    return load_site(folder)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store.open(f"sqlite:///{tmp_path / 'state' / 'store.db'}") as opened:
        yield opened


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "readings.csv") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write
