"""The users file, argon2 credentials and JWTs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.auth import Role, hash_secret, load_users, new_api_token
from api.auth.jwt_tokens import decode_access_token, issue_access_token
from nzd.cli.app import app
from nzd.errors import ConfigError


def test_tokens_and_passwords_verify_only_against_their_hash(tmp_path: Path) -> None:
    token, token_hash = new_api_token("scada")
    path = tmp_path / "users.yaml"
    path.write_text(f"""
users:
  - username: rossi
    role: site_manager
    sites: [tintoria-rossi]
    password_hash: '{hash_secret("demo-only-pw")}'
    tokens: [{{id: scada, hash: '{token_hash}'}}]
""")
    users = load_users(path)
    principal = users.verify_token(token)
    assert principal is not None and principal.role is Role.SITE_MANAGER
    assert principal.sites == frozenset({"tintoria-rossi"})
    assert users.cached_token(token) == principal
    assert users.verify_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert users.verify_token("nzd_other_" + token.split("_", 2)[2]) is None
    assert users.login("rossi", "demo-only-pw") == principal
    assert users.login("rossi", "wrong") is None and users.login("nobody", "demo-only-pw") is None
    assert token_hash.startswith("$argon2id$") and token not in path.read_text()


def test_a_bad_users_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    path.write_text("users:\n  - username: rossi\n    role: site_manager\n")
    with pytest.raises(ConfigError) as err:
        load_users(path)
    message = str(err.value)
    assert str(path) in message and "users.0" in message and "at least one site" in message
    path.write_text("users:\n  - username: x\n    role: mayor\n")
    with pytest.raises(ConfigError, match=r"users\.0\.role"):
        load_users(path)
    with pytest.raises(ConfigError, match="cannot read the users file"):
        load_users(tmp_path / "missing.yaml")


def test_jwts_expire_and_need_the_key() -> None:
    users = load_users(None)
    assert len(users) == 0
    from api.auth.principal import Principal

    p = Principal("op", Role.OPERATOR)
    token = issue_access_token(p, secret="k" * 32, ttl_s=60)
    assert decode_access_token(token, secret="k" * 32) == "op"
    assert decode_access_token(token, secret="other-key" * 4) is None
    assert decode_access_token(issue_access_token(p, secret="k" * 32, ttl_s=-1), secret="k" * 32) is None


def test_the_cli_makes_a_token_with_its_users_file_entry() -> None:
    result = CliRunner().invoke(app, ["api", "token", "ci-bot"])
    assert result.exit_code == 0
    assert "token: nzd_ci-bot_" in result.output and "hash: '$argon2id$" in result.output
    bad = CliRunner().invoke(app, ["api", "token", "Bad Name"])
    assert bad.exit_code != 0
