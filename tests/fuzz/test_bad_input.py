"""Bad-input campaign: thousands of generated inputs per entry point, with a fixed seed.

Each entry point may accept an input or refuse it with its own error type carrying a message for a
person; any other exception (a traceback reaching the user) fails the campaign. Entry points: YAML
site loading, Modbus register decoding, LPWAN uplink parsing and decoding, CSV import rows.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_bridge.sites import open_site
from metering.decoding import DecodeError, decode
from metering.lpwan import UplinkError, parse_uplink, uplink_readings
from metering.manual_import import parse_manual_csv
from metering.profiles import builtin_profiles
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite
from tests.lpwan.messages import chirpstack_up, tts_up

MINIMAL = Path(__file__).resolve().parents[1] / "point_mapping" / "sites" / "minimal"
DEMO = Path(__file__).resolve().parents[2] / "sites" / "demo"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def campaign(examples: int) -> settings:
    return settings(
        max_examples=examples, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["2025-13-45", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1e308", "-0", "~", "&a", "*a"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def demo() -> LoadedSite:
    return open_site(DEMO)


# -- YAML site loading -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("fuzz") / "site"
    shutil.copytree(MINIMAL, target)
    return target


def _load(folder: Path) -> None:
    try:
        open_site(folder)
    except SiteInvalid as invalid:
        for problem in invalid.problems:  # every problem points somewhere a person can look
            assert problem.location.line >= 1 and problem.location.col >= 1, problem
            assert str(problem).strip()


@campaign(600)
@given(data=st.data())
def test_mutated_yaml_text_is_a_site_or_problems(site_copy: Path, data: st.DataObject) -> None:
    original = (MINIMAL / "meters.yaml").read_text()
    at = data.draw(st.integers(0, len(original)))
    cut = data.draw(st.integers(0, 20))
    inserted = data.draw(st.text(max_size=30) | st.sampled_from(["\x00", "\x1b[0m", "[" * 300, "{a: *b}", "\ufeff"]))
    (site_copy / "meters.yaml").write_text(original[:at] + inserted + original[at + cut :], encoding="utf-8")
    try:
        _load(site_copy)
    finally:
        (site_copy / "meters.yaml").write_text(original, encoding="utf-8")


@campaign(600)
@given(
    section=st.sampled_from(["site", "buildings", "devices", "meters", "points", "tariffs", "contracts"]),
    value=json_values,
)
def test_any_value_in_any_section_is_a_site_or_problems(site_copy: Path, section: str, value: Any) -> None:
    extra = site_copy / "zz-extra.yaml"
    extra.write_text(json.dumps({section: value}), encoding="utf-8")  # JSON is YAML
    try:
        _load(site_copy)
    finally:
        extra.unlink()


# -- Modbus register decoding ----------------------------------------------------------------------


def _register_specs() -> list[Any]:
    return [spec for profile in builtin_profiles().values() for spec in profile.registers.values()]


@campaign(3000)
@given(spec=st.sampled_from(_register_specs()), words=st.lists(st.integers(-5, 70_000), max_size=5))
def test_any_register_words_decode_or_are_refused(spec: Any, words: list[int]) -> None:
    try:
        value = decode(spec, words)
    except DecodeError as error:
        assert str(error)
        return
    assert value is None or value == value  # a number, or "not available"; never NaN


# -- LPWAN uplinks ---------------------------------------------------------------------------------

EUI = "70b3d57ed0050001"


def _mutate(message: Any, data: st.DataObject) -> Any:
    if isinstance(message, dict) and message and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(message)))
        return {**message, key: _mutate(message[key], data)}
    return data.draw(json_values)


@campaign(3000)
@given(data=st.data())
def test_any_uplink_message_is_readings_or_an_uplink_error(demo: LoadedSite, data: st.DataObject) -> None:
    payload = data.draw(st.binary(max_size=12))
    base = data.draw(
        st.sampled_from(
            [
                chirpstack_up(EUI, 7, payload, "2026-12-02T11:00:00Z"),
                tts_up(EUI, 7, {"volume": 12.5}, "2026-12-02T11:00:00Z"),
            ]
        )
    )
    message = _mutate(base, data) if data.draw(st.booleans()) else base
    try:
        uplink = parse_uplink(message, NOW)
        readings = uplink_readings(demo.model, uplink, demo.profiles)
    except UplinkError as error:
        assert str(error)
        return
    for reading in readings:
        assert reading.ts.tzinfo is not None


@campaign(1000)
@given(message=json_values)
def test_any_json_value_is_an_uplink_or_an_uplink_error(message: Any) -> None:
    try:
        parse_uplink(message, NOW)
    except UplinkError as error:
        assert str(error)


# -- CSV import ------------------------------------------------------------------------------------

cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["GAS-1", "rest.gas", "M-REST-GAS", "2026-12-01T10:00:00Z", "2026-12-01T10:00:00", "12,5"]),
    st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1e308", "nan", "-1", '"', "\r"]),
)


@campaign(3000)
@given(
    header=st.sampled_from(["meter,timestamp,value", "point,timestamp,value,note", "meter,timestamp", ""]),
    rows=st.lists(st.lists(cells, max_size=5), max_size=6),
)
def test_any_csv_is_readings_or_row_errors(demo: LoadedSite, header: str, rows: list[list[str]]) -> None:
    text = "\n".join([header, *(",".join(row) for row in rows)])
    result = parse_manual_csv(demo.model, text, "book.csv", demo.profiles, now=NOW)
    for error in result.errors:
        assert error.line >= 0 and error.message
    for reading in result.readings:
        assert reading.value >= 0 and reading.ts <= NOW.replace(minute=5)
