"""Item 16 (files and secrets): stores, buffers and gateway state are created 0600 whatever the
umask; the API refuses a users file others may write and warns about one others may read;
``nzd api`` refuses an NZD_JWT_SECRET shorter than 32 bytes with a clear message.

Before, those files followed the umask (0644) and neither the users file nor the key was checked.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from api.auth import load_users
from gateway.control._state import AssetState, SetpointStateStore
from gateway.delivery import ReadingBuffer
from nzd.errors import ConfigError
from nzd.messages import DeviceKind
from nzd.store import Reading
from nzd.store.sqlite import SqliteStore
from tests.api.conftest import DISTRICT_FILE
from tests.harness import free_port


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask: whatever is created gets the mode its creator asked for."""
    old = os.umask(0)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_store_and_its_wal_are_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "store" / "nzd.sqlite"

    async def use() -> None:
        store = SqliteStore(path=path)
        await store.open()
        await store.write([Reading("d", "s", "m", DeviceKind.ELECTRICITY_METER, 1_764_000_000_000, 1,
                                   {"active_power_w": 1.0})])
        await store.close()

    asyncio.run(use())
    files = [p for p in path.parent.iterdir() if p.name.startswith("nzd.sqlite")]
    assert files and all(_mode(p) == 0o600 for p in files), [(p.name, oct(_mode(p))) for p in files]


def test_an_existing_world_readable_store_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    path.touch(mode=0o644)
    path.chmod(0o644)

    async def use() -> None:
        store = SqliteStore(path=path)
        await store.open()
        await store.close()

    asyncio.run(use())
    assert _mode(path) == 0o600


def test_the_gateway_buffer_and_setpoint_state_are_private(tmp_path: Path, open_umask: None) -> None:
    buffer = ReadingBuffer(path=tmp_path / "buffer.sqlite", max_bytes=1_000_000)
    state = SetpointStateStore(path=tmp_path / "state.sqlite")
    state.save("battery", AssetState(last_id=1, last_value=0.0))
    try:
        files = [p for p in tmp_path.iterdir() if ".sqlite" in p.name]
        assert {p.name for p in files} >= {"buffer.sqlite", "state.sqlite"}
        assert all(_mode(p) == 0o600 for p in files), [(p.name, oct(_mode(p))) for p in files]
    finally:
        buffer.close()
        state.close()


def _users_file(tmp_path: Path, mode: int) -> Path:
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"users": [{"username": "comune", "role": "public"}]}))
    path.chmod(mode)
    return path


def test_a_users_file_others_may_write_is_refused(tmp_path: Path) -> None:
    for mode in (0o620, 0o602, 0o666):
        with pytest.raises(ConfigError, match="writable by group or others"):
            load_users(_users_file(tmp_path, mode))


def test_a_users_file_others_may_read_is_warned_about(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="api"):
        assert len(load_users(_users_file(tmp_path, 0o644))) == 1
    assert any("readable by group or others" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="api"):
        load_users(_users_file(tmp_path, 0o600))
    assert not caplog.records


def _nzd_api(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "NZD_DISTRICT_FILE": str(DISTRICT_FILE), "NZD_API_PORT": str(free_port()), **env}
    return subprocess.run([sys.executable, "-m", "nzd", "api"], env=full, capture_output=True, text=True,
                          timeout=60)


def test_nzd_api_refuses_a_short_jwt_secret(tmp_path: Path) -> None:
    done = _nzd_api({"NZD_JWT_SECRET": "only-31-bytes-long-not-enough!!"})
    assert done.returncode == 2
    assert "NZD_JWT_SECRET must be at least 32 bytes" in done.stderr


def test_nzd_api_does_not_start_with_a_group_writable_users_file(tmp_path: Path) -> None:
    path = _users_file(tmp_path, 0o664)
    done = _nzd_api({"NZD_USERS_FILE": str(path), "NZD_JWT_SECRET": "x" * 32})
    assert done.returncode != 0
    assert "the users file is writable by group or others" in done.stdout + done.stderr
