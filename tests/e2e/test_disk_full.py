"""The gateway's buffer on a small file system that fills up: the loss is counted, seen and recovered.

A tmpfs of 2 MB is mounted by the test (root is needed; without it the test fails
and says so). While the disk is full every new reading is lost, but its seq is
allocated (a gap), counted in ``dropped`` and the disk-full metric, and shown in
the status; what the buffer holds is still published and confirmed, and nothing
is sent in a loop. When space returns the gateway queues again by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tests.e2e.nothing_lost import Rig
from tests.gateway.service.support import until
from tests.harness import InfluxServer, MosquittoServer


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"this test mounts a 2 MB tmpfs and needs root (or CAP_SYS_ADMIN) for it: "
                    f"mount said {done.stderr.strip()!r}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(path: Path) -> None:
    """Write until the file system has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    with pytest.raises(OSError) as full:
        path.with_name("probe").write_bytes(b"x" * 4096)
    assert full.value.errno == errno.ENOSPC


def metric(name: str) -> float:
    value = REGISTRY.get_sample_value(name)
    return 0.0 if value is None else value


@pytest.mark.slow
async def test_a_full_disk_loses_readings_as_a_counted_visible_gap_and_the_gateway_recovers(
        tmp_path: Path, small_disk: Path, mosquitto_factory: Callable[..., MosquittoServer],
        influxdb: InfluxServer) -> None:
    broker = mosquitto_factory()
    rig = await Rig.start(tmp_path, broker=broker, influx=influxdb, buffer_path=small_disk / "buffer.sqlite")
    buffer = rig.service.buffer
    try:
        await rig.start_ingest()
        await rig.readings(30)
        await rig.all_stored(timeout_s=30, what="before the disk fills")

        await asyncio.to_thread(fill, small_disk / "filler")
        published_at_full = rig.service.publisher.stats.published
        await until(lambda: buffer.disk_full >= 50, timeout_s=30, what="readings lost to the full disk")
        # The disk's own error, not the rollback's "no transaction is active".
        assert buffer.last_error is not None and "full" in buffer.last_error
        # Seen: in the status and the metrics.
        await until(lambda: any(s.dropped > 0 for s in rig.statuses()), timeout_s=10,
                    what="a status with the loss")
        assert metric("nzd_gateway_disk_full_readings_total") == buffer.disk_full
        assert metric("nzd_gateway_dropped_readings_total") == buffer.dropped
        # What was queued before is not sent over and over while deletes fail.
        assert rig.service.publisher.stats.published - published_at_full <= 200

        (small_disk / "filler").unlink()
        lost = buffer.disk_full
        await rig.readings(30)           # queued again, without a restart
        await rig.all_stored(timeout_s=60, what="after space returned")
        assert buffer.last_error is None
    finally:
        await rig.close()

    produced_seqs = {seq for _, seq in rig.produced}
    gap = set(range(buffer.next_seq)) - produced_seqs
    # Every reading that reached the disk was stored; every one lost is a counted gap.
    assert set(rig.produced) == rig.stored()
    assert len(gap) == buffer.disk_full >= lost > 0
    assert buffer.dropped == buffer.disk_full  # the budget itself never dropped anything
    last = rig.statuses()[-1]
    assert last.dropped == buffer.disk_full
    assert last.reason == "shutdown: everything delivered"
