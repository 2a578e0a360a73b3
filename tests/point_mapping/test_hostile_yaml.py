"""Files no integrator meant to write (control characters, runaway nesting, impossible dates, a lock
file that is not text) are problems with a position, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms_bridge.cli import main
from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.identifiers import LOCK_FILE


def problems_of(site_dir: Path) -> list[str]:
    with pytest.raises(SiteInvalid) as caught:
        open_site(site_dir)
    return [str(p).replace(f"{site_dir}/", "") for p in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("notes:\n  a: x\x00y\n", "extra.yaml:2:7: control character U+0000 is not allowed in YAML"),
        ("notes:\n  a: \x1b[31m\n", "extra.yaml:2:6: control character U+001B is not allowed in YAML"),
        ("notes: \x7f\n", "extra.yaml:1:8: control character U+007F is not allowed in YAML"),
        ("notes: " + "[" * 5000 + "\n", "extra.yaml:1:1: nesting deeper than 64 levels; a site file needs a few"),
    ],
)
def test_unreadable_yaml_is_one_problem_at_its_position(site_dir: Path, text: str, expected: str) -> None:
    (site_dir / "extra.yaml").write_text(text, encoding="utf-8")
    assert problems_of(site_dir) == [expected]


def test_an_impossible_date_is_a_problem_at_the_value(site_dir: Path) -> None:
    (site_dir / "extra.yaml").write_text("notes:\n  due: 2025-13-45\n", encoding="utf-8")
    (problem,) = problems_of(site_dir)
    assert problem == "extra.yaml:2:8: cannot read '2025-13-45': month must be in 1..12; quote it if it is text"


def test_a_lock_file_that_is_not_utf8_is_named_with_the_fix(site_dir: Path) -> None:
    (site_dir / LOCK_FILE).write_bytes(b"\xff\xfebacnet_instances: {}\n")
    (problem,) = problems_of(site_dir)
    assert problem.startswith(f"{LOCK_FILE}:1:1: cannot read the lock file")
    assert "restore it from a backup or version control" in problem


def test_check_prints_the_problem_and_no_traceback(site_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site_dir / "extra.yaml").write_text("notes: " + "{" * 100_000 + "\n", encoding="utf-8")
    assert main(["check", str(site_dir)]) != 0
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert "nesting deeper than 64 levels" in out.out + out.err
