"""`bms-bridge users add/list/token`: passwords from standard input, roles checked, tenants known."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from bms_bridge.cli import main
from bms_bridge.web.users import UserStore
from metering.store import Store


def _cli(args: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(args)


def test_add_list_and_log_in_with_the_stored_hash(
    site_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{site_dir / 'users.db'}"
    base = ["--db", db, "users"]
    assert _cli([*base, "add", str(site_dir), "carla", "--role", "operator"], "s3cret-pass\n", monkeypatch) == 0
    assert (
        _cli(
            [*base, "add", str(site_dir), "alpha", "--role", "tenant", "--tenant", "T1", "--password-stdin"],
            "tenant-pass\n",
            monkeypatch,
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == ["added carla (operator)", "added alpha (tenant: T1)"]
    assert main([*base, "list", str(site_dir), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"], u["tenant"]) for u in listed] == [
        ("alpha", "tenant", "T1"),
        ("carla", "operator", None),
    ]
    assert main([*base, "token", str(site_dir), "carla", "--label", "grafana"]) == 0
    token = capsys.readouterr().out.strip()
    asyncio.run(_check_stored(db, token))


async def _check_stored(db: str, token: str) -> None:
    async with Store.open(db) as store:
        users = UserStore(store.engine)
        assert (await users.authenticate("carla", "s3cret-pass")) is not None
        assert (await users.authenticate("carla", "s3cret-pass ")) is None
        found = await users.user_for_token(token)
        assert found is not None and found.name == "carla"
        async with store.engine.connect() as conn:
            hashes = [row[0] for row in (await conn.exec_driver_sql("SELECT password_hash FROM users")).all()]
            tokens = [row[0] for row in (await conn.exec_driver_sql("SELECT token_hash FROM api_tokens")).all()]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert token not in tokens  # only its SHA-256 is stored


@pytest.mark.parametrize(
    ("extra", "stdin", "message"),
    [
        (["--role", "tenant"], "long-enough\n", "error: a tenant user needs --tenant, and only a tenant user has one"),
        (["--role", "operator", "--tenant", "T1"], "long-enough\n", "error: a tenant user needs --tenant"),
        (["--role", "tenant", "--tenant", "T9"], "long-enough\n", "error: no tenant 'T9' in"),
        (["--role", "operator"], "short\n", "error: the password needs at least 8 characters"),
    ],
)
def test_bad_users_are_refused_and_nothing_written(
    site_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    stdin: str,
    message: str,
) -> None:
    db = f"sqlite:///{site_dir / 'users.db'}"
    assert _cli(["--db", db, "users", "add", str(site_dir), "x", *extra], stdin, monkeypatch) == 1
    assert capsys.readouterr().err.startswith(message)
    assert main(["--db", db, "users", "list", str(site_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_name_is_taken_once(
    site_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{site_dir / 'users.db'}"
    args = ["--db", db, "users", "add", str(site_dir), "carla", "--role", "admin"]
    assert _cli(args, "long-enough\n", monkeypatch) == 0
    assert _cli(args, "another-one\n", monkeypatch) == 1
    assert "error: a user named 'carla' already exists" in capsys.readouterr().err


def test_a_bad_role_is_a_usage_error(site_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["users", "add", str(site_dir), "x", "--role", "superuser"])
    assert exit_.value.code == 2
    assert "invalid choice: 'superuser'" in capsys.readouterr().err
