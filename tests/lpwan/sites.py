"""A small site with two LPWAN devices (bytes and object decoders) and a manual meter, as YAML."""

from __future__ import annotations

import textwrap
from pathlib import Path

from point_mapping.loader import LoadedSite, load_site

WATER_EUI = "70b3d57ed0001234"  # bytes decoder: volume u32 BE in L, temperature s16 BE in 0.01 degC
HEAT_EUI = "0004a30b001c0530"  # object decoder: meter.energy in kWh, stored in MWh
TOKEN_ENV = "BMS_TEST_LPWAN_TOKEN"


def write_site(folder: Path, *, webhook: str = "", mqtt: str = "") -> LoadedSite:
    """Write the site into `folder` with the given `lpwan:` subsections (YAML, indented 2) and load it."""
    folder.mkdir(parents=True, exist_ok=True)
    lpwan = ""
    if webhook or mqtt:
        lpwan = "lpwan:\n" + textwrap.indent(webhook, "  ") + textwrap.indent(mqtt, "  ")
    (folder / "site.yaml").write_text(
        textwrap.dedent(
            """\
            site: {id: test-site, name: Test site, timezone: Europe/Berlin, currency: EUR}
            """
        )
        + lpwan
    )
    (folder / "devices.yaml").write_text(
        textwrap.dedent(
            f"""\
            devices:
              - id: wm-1
                connection:
                  kind: lpwan
                  dev_eui: {WATER_EUI.upper()}
                  decoder:
                    kind: bytes
                    fields:
                      - {{name: volume, offset: 0, width: 4, unit: L}}
                      - {{name: temperature, offset: 4, width: 2, signed: true, scale: 0.01, unit: degC,
                          cumulative: false}}
              - id: hm-1
                connection:
                  kind: lpwan
                  dev_eui: {HEAT_EUI}
                  decoder:
                    kind: object
                    fields:
                      - {{name: energy, path: meter.energy, unit: kWh}}
              - id: notebook
                connection: {{kind: manual, unit: m3}}
            meters:
              - {{id: WM-1, device: wm-1, resource: cold_water}}
              - {{id: HM-1, device: hm-1, resource: heat}}
              - {{id: GAS-1, device: notebook, resource: gas}}
            points:
              - {{id: WM-1.volume, meter: WM-1, register: volume, unit: m3}}
              - {{id: WM-1.temp, meter: WM-1, register: temperature}}
              - {{id: HM-1.energy, meter: HM-1, register: energy, unit: MWh}}
              - {{id: GAS-1.volume, meter: GAS-1, register: reading}}
            """
        )
    )
    return load_site(folder)
