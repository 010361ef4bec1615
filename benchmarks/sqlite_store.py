"""SQLite store write throughput with ``synchronous=FULL`` (durable commits) against NORMAL, one JSON line.

Ingest acknowledges a batch only after the store returns, so the store must not
return before its commit is on disk: FULL fsyncs the WAL at every commit. Same
run, alternating rounds, best of each: batches of ``BATCH`` readings of 6 values.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nzd.messages import DeviceKind  # noqa: E402
from nzd.store import Reading, SqliteStore  # noqa: E402

N = 20_000
BATCH = 500
ROUNDS = 3
T0_MS = 1_767_225_600_000


def readings(offset: int) -> list[Reading]:
    return [Reading(district="bench", site="site", device=f"m{i % 50}", kind=DeviceKind.ELECTRICITY_METER,
                    ts_ms=T0_MS + offset + i, seq=offset + i,
                    values={"active_power_w": float(i), "energy_import_wh": float(offset + i),
                            "voltage_v": 230.0, "current_a": 5.0, "power_factor": 0.97, "frequency_hz": 50.0})
            for i in range(N)]


async def rate(path: Path, synchronous: str, offset: int) -> float:
    store = SqliteStore(path=path, synchronous=synchronous)
    await store.open()
    data = readings(offset)
    try:
        start = time.perf_counter()
        for i in range(0, N, BATCH):
            await store.write(data[i:i + BATCH])
        return N / (time.perf_counter() - start)
    finally:
        await store.close()


async def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="nzd-bench-sqlite-"))
    best = {"FULL": 0.0, "NORMAL": 0.0}
    for r in range(ROUNDS):
        for mode in best:
            best[mode] = max(best[mode], await rate(work / f"{mode}.sqlite", mode, r * N))
    print(json.dumps({"benchmark": "sqlite_store", "readings": N, "batch": BATCH, "rounds": ROUNDS,
                      "full_per_s": round(best["FULL"]), "normal_per_s": round(best["NORMAL"]),
                      "full_vs_normal": round(best["FULL"] / best["NORMAL"], 3)}))


if __name__ == "__main__":
    asyncio.run(main())
