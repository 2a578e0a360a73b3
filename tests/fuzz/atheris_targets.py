"""Coverage-guided fuzzing of the byte-level entry points with atheris (libFuzzer).

Run as a program: `python -m tests.fuzz.atheris_targets TARGET -runs=N -seed=S [-artifact_prefix=DIR/]`.
Each target takes raw bytes as a user or a network would send them and may accept them or refuse
them with the entry point's own error type; any other exception is a crash that libFuzzer reports
(exit code 1, the input saved under the artifact prefix). Where hypothesis (test_bad_input.py)
generates structured inputs, atheris mutates bytes guided by the branches they reach, which finds
encodings, escapes and nesting that a grammar does not think of.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import atheris

# Only our own packages are instrumented: the libraries under them would slow every run tenfold.
with atheris.instrument_imports(include=["metering", "point_mapping"]):
    from bms_bridge.sites import open_site
    from metering.decoding import DecodeError, decode
    from metering.lpwan import UplinkError, parse_uplink, uplink_readings
    from metering.manual_import import parse_manual_csv
    from metering.profiles import builtin_profiles
    from point_mapping.errors import SiteInvalid
from tests.lpwan.messages import chirpstack_up, tts_up, water_payload

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "point_mapping" / "sites" / "minimal"
DEMO = ROOT / "sites" / "demo"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
EUI = "70b3d57ed0050001"  # the demo's LPWAN water meter

# A target is the function libFuzzer calls, and the valid inputs its corpus starts from.
Target = tuple[Callable[[bytes], None], list[bytes]]


def yaml_target() -> Target:
    """Bytes as a site's meters.yaml: a loaded site, or problems that each point at file:line:col."""
    folder = Path(tempfile.mkdtemp(prefix="atheris-site-")) / "site"
    shutil.copytree(MINIMAL, folder)
    meters = folder / "meters.yaml"

    def one(data: bytes) -> None:
        meters.write_bytes(data)
        try:
            open_site(folder)
        except SiteInvalid as invalid:
            for problem in invalid.problems:
                if problem.location.line < 1 or problem.location.col < 1 or not str(problem).strip():
                    raise AssertionError(f"problem without a place or a message: {problem!r}") from None

    return one, [(MINIMAL / "meters.yaml").read_bytes()]


def uplink_target() -> Target:
    """Bytes as a webhook or MQTT body: readings, or an UplinkError with a message."""
    demo = open_site(DEMO)

    def one(data: bytes) -> None:
        try:
            message = json.loads(data)
        except (ValueError, RecursionError):
            return  # the adapters answer 400 before the core sees it
        try:
            uplink = parse_uplink(message, NOW)
            readings = uplink_readings(demo.model, uplink, demo.profiles)
        except UplinkError as error:
            if not str(error):
                raise AssertionError("UplinkError without a message") from None
            return
        for reading in readings:
            if reading.ts.tzinfo is None:
                raise AssertionError(f"naive timestamp in {reading!r}")

    seeds = [
        chirpstack_up(EUI, 7, water_payload(123_456, 1_250), "2026-12-02T11:00:00Z"),
        tts_up(EUI, 8, {"volume": 12.5}, "2026-12-02T11:15:00Z"),
    ]
    return one, [json.dumps(seed).encode() for seed in seeds]


def csv_target() -> Target:
    """Bytes as an uploaded CSV of manual readings: readings and row errors, never an exception."""
    demo = open_site(DEMO)

    def one(data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        result = parse_manual_csv(demo.model, text, "book.csv", demo.profiles, now=NOW)
        for error in result.errors:
            if error.line < 0 or not error.message:
                raise AssertionError(f"row error without a line or message: {error!r}")

    book = "meter,timestamp,value,note\nrest.gas,2026-12-01T10:00:00+01:00,1234.5,read by J.\n"
    return one, [book.encode(), book.replace("meter,", "point,").replace("rest.gas", "gas.A0-rest").encode()]


def registers_target() -> Target:
    """Bytes as a register spec choice and the words a meter answered: a value, None, or DecodeError."""
    specs = [spec for profile in builtin_profiles().values() for spec in profile.registers.values()]

    def one(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        spec = specs[fdp.ConsumeIntInRange(0, len(specs) - 1)]
        words = [fdp.ConsumeIntInRange(0, 0xFFFF) for _ in range(fdp.ConsumeIntInRange(0, 5))]
        try:
            value = decode(spec, words)
        except DecodeError as error:
            if not str(error):
                raise AssertionError("DecodeError without a message") from None
            return
        if value is not None and value != value:
            raise AssertionError(f"{spec!r} decoded {words} to NaN")

    return one, []


TARGETS: dict[str, Callable[[], Target]] = {
    "yaml": yaml_target,
    "uplink": uplink_target,
    "csv": csv_target,
    "registers": registers_target,
}


def main() -> None:
    name, *libfuzzer_args = sys.argv[1:]
    one, seeds = TARGETS[name]()
    if not any(Path(arg).is_file() for arg in libfuzzer_args):  # a saved input given: replay it instead
        corpus = Path(tempfile.mkdtemp(prefix=f"atheris-{name}-"))  # libFuzzer adds what it finds here
        for n, seed in enumerate(seeds):
            (corpus / f"seed-{n}").write_bytes(seed)
        libfuzzer_args.append(str(corpus))
    atheris.Setup([sys.argv[0], *libfuzzer_args], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
