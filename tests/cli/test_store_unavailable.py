"""A database that cannot be opened stops any command with one sentence naming the cause and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms_bridge.cli import main
from tests.support.services import free_tcp_port, require_postgres


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def _one_sentence(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_postgresql_not_running(site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "book.csv"
    csv.write_text("meter,timestamp,value\nM-A1-01,2026-01-01T00:00:00Z,5\n")
    url = f"postgresql://127.0.0.1:{free_tcp_port()}/test"  # nothing listens there
    code, text = _run(capsys, "--db", url, "import-readings", str(site_dir), str(csv))
    line = _one_sentence(text)
    assert code == 1
    assert line.startswith(f"error: cannot open the database {url.replace('postgresql', 'postgresql+asyncpg')}")
    assert "is PostgreSQL running and reachable on 127.0.0.1:" in line
    assert "book.csv" not in line  # the file is not blamed for the database


def test_sqlite_file_under_a_file(site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    code, text = _run(capsys, "--db", f"sqlite:///{blocker}/site.db", "verify", str(site_dir))
    line = _one_sentence(text)
    assert code == 1
    assert line.startswith("error: cannot open the database sqlite")
    assert "check the path" in line


def test_postgresql_database_missing(site_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_postgres()
    url = "postgresql://postgres@127.0.0.1:5432/no_such_database_here"
    code, text = _run(capsys, "--db", url, "run", str(site_dir))
    line = _one_sentence(text)
    assert code == 1
    assert 'database "no_such_database_here" does not exist' in line
    assert "create it (createdb no_such_database_here)" in line
