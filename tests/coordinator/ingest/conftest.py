"""Ingest processes started by a test are stopped when it ends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.coordinator.ingest.support import IngestProcess


@pytest.fixture
def ingest_factory(tmp_path: Path) -> Iterator[Callable[..., IngestProcess]]:
    procs: list[IngestProcess] = []
    group = f"g{uuid.uuid4().hex[:8]}"

    def make(*, mqtt_port: int, influx_url: str, database: str, client_id: str = "ingest-a",
             sqlite_path: Path | None = None, **extra: str) -> IngestProcess:
        p = IngestProcess(mqtt_port=mqtt_port, influx_url=influx_url, database=database,
                          client_id=client_id, group=group, log_path=tmp_path / f"{client_id}.log",
                          sqlite_path=sqlite_path, **extra)
        procs.append(p)
        return p.start()

    yield make
    for p in procs:
        p.stop()
