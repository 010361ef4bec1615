"""Item 14 (timing): an API token's id cannot be told apart by timing. An unknown id, a known id
with a wrong secret and a malformed token each cost one argon2 verification (against a dummy
hash when there is no entry). Asserted on that structure; benchmarks/token_timing.py measures.

Before: 128 ms for a known id, 1.8 ms for an unknown one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from api.auth import hash_secret, load_users, new_api_token
from tests.api.conftest import ApiServer
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api


@pytest.fixture(scope="module")
def api_server(influxdb: InfluxServer, mosquitto: MosquittoServer,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("timing")
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder) as server:
        yield server


def _directory(tmp_path: Path) -> tuple[object, str]:
    token, hashed = new_api_token("ops")
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"users": [{"username": "operator", "role": "operator",
                                               "password_hash": hash_secret("demo-pw"),
                                               "tokens": [{"id": "ops", "hash": hashed}]}]}))
    return load_users(path), token


def test_every_token_check_costs_one_argon2_verification(tmp_path: Path) -> None:
    users, token = _directory(tmp_path)
    secret = token.split("_", 2)[2]
    for probe in (f"nzd_ops_{'x' * len(secret)}",        # known id, wrong secret
                  f"nzd_nosuchid_{secret}",               # unknown id
                  "nzd_!!_short"):                        # malformed
        before = users.verifications  # type: ignore[attr-defined]
        assert users.verify_token(probe) is None  # type: ignore[attr-defined]
        assert users.verifications == before + 1, probe  # type: ignore[attr-defined]
    assert users.verify_token(token) is not None  # type: ignore[attr-defined]


def test_the_api_refuses_unknown_and_wrong_tokens_alike(api_server: ApiServer) -> None:
    secret = api_server.operator.token.split("_", 2)[2]
    answers = []
    for probe in (f"nzd_ops_{'x' * len(secret)}", f"nzd_nosuchid_{secret}"):
        r = httpx.get(f"{api_server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {probe}"},
                      timeout=10)
        answers.append((r.status_code, r.json()["detail"], r.headers["www-authenticate"]))
    assert answers[0] == answers[1] and answers[0][0] == 401
