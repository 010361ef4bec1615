"""The SQLite reading queue: seq survives restarts, the disk budget drops the oldest."""

from __future__ import annotations

from pathlib import Path

from gateway.delivery import Reading, ReadingBuffer
from nzd.messages import DeviceKind, Telemetry, decode

T0_MS = 1_764_000_000_000


def _readings(n: int, *, start_ms: int = T0_MS, device: str = "meter-1") -> list[Reading]:
    return [Reading(device=device, kind=DeviceKind.ELECTRICITY_METER, ts_ms=start_ms + i * 1000,
                    values={"active_power_w": float(i)}) for i in range(n)]


def test_seq_is_monotonic_across_restarts_even_when_the_queue_was_emptied(tmp_path: Path) -> None:
    path = tmp_path / "buf.sqlite"
    buf = ReadingBuffer(path=path, max_bytes=10_000_000)
    first = buf.append(_readings(5))
    assert [m.seq for m in first] == [0, 1, 2, 3, 4]
    buf.remove(m.seq for m in first)
    assert buf.count == 0
    buf.close()

    reopened = ReadingBuffer(path=path, max_bytes=10_000_000)
    again = reopened.append(_readings(2))
    assert [m.seq for m in again] == [5, 6]
    reopened.close()


def test_queued_rows_come_back_in_seq_order_with_their_payload(tmp_path: Path) -> None:
    buf = ReadingBuffer(path=tmp_path / "b.sqlite", max_bytes=10_000_000)
    buf.append(_readings(3, device="a") + _readings(3, device="b"))
    rows = buf.fetch(after_seq=-1, limit=100)
    assert [r.seq for r in rows] == list(range(6))
    msg = decode(rows[4].payload, Telemetry)
    assert (msg.device, msg.seq, msg.values, msg.replayed) == ("b", 4, {"active_power_w": 1.0}, False)
    assert [r.seq for r in buf.fetch(after_seq=3, limit=2)] == [4, 5]


def test_a_full_budget_drops_the_oldest_counts_them_and_keeps_the_count_after_restart(
        tmp_path: Path) -> None:
    path = tmp_path / "small.sqlite"
    buf = ReadingBuffer(path=path, max_bytes=1_000_000)
    for i in range(60):
        buf.append(_readings(200, start_ms=T0_MS + i * 200_000))
    assert buf.size_bytes <= 1_000_000
    assert buf.dropped > 0
    assert buf.count + buf.dropped == 12_000
    rows = buf.fetch(after_seq=-1, limit=20_000)
    # What is left is the newest, contiguous up to the last reading taken.
    assert rows[0].seq == buf.dropped
    assert rows[-1].seq == 11_999
    dropped = buf.dropped
    buf.close()

    reopened = ReadingBuffer(path=path, max_bytes=1_000_000)
    assert reopened.dropped == dropped
    assert reopened.count == len(rows)
    reopened.close()


def test_removing_unknown_or_already_dropped_rows_is_harmless(tmp_path: Path) -> None:
    buf = ReadingBuffer(path=tmp_path / "b.sqlite", max_bytes=10_000_000)
    buf.append(_readings(3))
    assert buf.remove([1, 99, 1]) == 1
    assert [r.seq for r in buf.fetch(after_seq=-1, limit=10)] == [0, 2]
    assert buf.count == 2


def test_the_budget_holds_the_write_ahead_log_too(tmp_path: Path) -> None:
    buf = ReadingBuffer(path=tmp_path / "b.sqlite", max_bytes=1_000_000)
    for k in range(100):  # about 2.5 MB of readings into a 1 MB budget
        buf.append(_readings(100, start_ms=T0_MS + k * 100_000, device=f"m{k % 7}"))
    assert buf.dropped > 0
    assert buf.size_bytes <= buf.rows_budget
    # SQLite's default would leave a WAL of up to 4 MB beside the database; here both fit.
    assert buf.disk_bytes() <= 1_000_000
    assert (tmp_path / "b.sqlite-wal").stat().st_size <= buf.wal_bytes + 64 * 1024


def test_a_full_disk_allocates_the_seqs_counts_the_loss_and_recovers(tmp_path: Path) -> None:
    """SQLite's page limit gives the same SQLITE_FULL as a full file system, without root."""
    path = tmp_path / "b.sqlite"
    buf = ReadingBuffer(path=path, max_bytes=100_000_000)
    first = buf.append(_readings(10))
    pages = buf._db.execute("PRAGMA page_count").fetchone()[0]
    buf._db.execute(f"PRAGMA max_page_count = {pages}")
    lost = []
    while not lost or len(lost) < 3:  # fill the last pages, then lose three commits
        if not buf.append(_readings(50, start_ms=T0_MS + 100_000 * (len(lost) + 1))):
            lost.append(buf.next_seq)
    assert buf.last_error is not None and "full" in buf.last_error  # the disk's, not the rollback's
    assert buf.disk_full == 150 and buf.dropped == 150
    queued = {r.seq for r in buf.fetch(after_seq=-1, limit=100_000)}
    assert {m.seq for m in first} <= queued
    # Confirmed rows can still be read; space comes back: queueing resumes after the gap.
    buf._db.execute("PRAGMA max_page_count = 1073741823")
    after = buf.append(_readings(2, start_ms=T0_MS + 10_000_000))
    assert [m.seq for m in after] == [buf.next_seq - 2, buf.next_seq - 1]
    assert after[0].seq == max(queued) + 1 + 150
    assert buf.last_error is None
    buf.close()
    reopened = ReadingBuffer(path=path, max_bytes=100_000_000)
    assert (reopened.disk_full, reopened.dropped, reopened.next_seq) == (150, 150, after[-1].seq + 1)
    reopened.close()


def test_confirmed_ranges_are_deleted_once_whatever_repeats(tmp_path: Path) -> None:
    buf = ReadingBuffer(path=tmp_path / "b.sqlite", max_bytes=10_000_000)
    buf.append(_readings(5, device="a") + _readings(5, device="b"))  # a: 0..4, b: 5..9
    assert buf.remove_ranges([("a", 0, 3), ("b", 0, 3)]) == 4  # b has no seq 0..3
    assert buf.remove_ranges([("a", 0, 3)]) == 0               # a repeated confirmation
    assert buf.remove_ranges([("a", 4, 9)]) == 1               # b's seqs are not a's
    assert [r.seq for r in buf.fetch(after_seq=-1, limit=100)] == [5, 6, 7, 8, 9]
    assert [r.seq for r in buf.fetch_range(first=6, last=8, limit=100)] == [6, 7, 8]
    assert buf.count == 5
