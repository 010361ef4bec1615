"""Requests per cycle and cycle time for 50 simulated devices polled over Modbus TCP.

Prints one JSON line. The simulator runs in its own process (``nzd simulate``),
one TCP port per device, cycling through every shipped profile. The same
devices are polled on the same time grid twice, each for ``--cycles`` cycles:
once with nzd's request plans and once naively (one request per point and per
scale factor register), the baseline measured in the same run. ``minimum`` is
the fewest requests that can cover the points, from an independent dynamic
programme over each device's register runs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: tests.harness lives in the tree

from gateway.modbus import PollerGroup, PollResult, PollSettings  # noqa: E402
from gateway.planner import ReadRequest, naive_requests, plan  # noqa: E402
from gateway.profiles import Point, Profile, available_profiles, load_profile  # noqa: E402
from nzd.config import DeviceConfig  # noqa: E402
from tests.harness import free_ports, wait_for_port  # noqa: E402

SERIES: dict[str, dict[str, Any]] = {
    "electricity_meter": {"load": {"profile": "g1", "annual_kwh": 200_000}},
    "pv_inverter": {"pv": {"kwp": 50}},
    "battery": {"battery": {"capacity_kwh": 100, "max_power_kw": 30}},
    "water_flow_meter": {"water": {"daily_m3": 200}},
}


def _window_ok(a: int, b: int, needed: set[int], profile: Profile, table: str, bits: bool) -> bool:
    limits = profile.limits
    if b - a + 1 > (min(limits.max_bits, 2000) if bits else min(limits.max_registers, 125)):
        return False
    if any(r.table.value == table and a <= r.end and r.start <= b for r in limits.forbidden):
        return False
    gap = 0
    for addr in range(a, b + 1):
        gap = 0 if addr in needed else gap + 1
        if gap > limits.max_gap:
            return False
    return True


def minimum_requests(points: list[Point], profile: Profile, unit_id: int) -> int:
    """Fewest windows covering every point's registers (and scale factor) in one window each."""
    groups: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for p in points:
        key = (p.unit_id if p.unit_id is not None else unit_id, p.table.value)
        groups[key].append((p.address, p.end))
        if p.scale_factor is not None:
            groups[key].append((p.scale_factor, p.scale_factor))
    total = 0
    for (_, table), items in groups.items():
        items = sorted(set(items))
        needed = {a for s, e in items for a in range(s, e + 1)}
        bits = table in ("coil", "discrete")
        if not all(e1 < s2 for (_, e1), (s2, _) in itertools.pairwise(items)):
            raise SystemExit("overlapping points: the run DP does not apply")
        best = [0] + [10**9] * len(items)
        for k in range(1, len(items) + 1):
            for j in range(k):
                if _window_ok(items[j][0], items[k - 1][1], needed, profile, table, bits):
                    best[k] = min(best[k], best[j] + 1)
        total += best[-1]
    return total


def naive_plan(points: list[Point], unit_id: int) -> list[ReadRequest]:
    def unit(p: Point) -> int:
        return p.unit_id if p.unit_id is not None else unit_id

    requests = [ReadRequest(unit(p), p.table, p.address, p.count, (p,)) for p in points]
    sfs = sorted({(unit(p), p.table, p.scale_factor)
                  for p in points if p.scale_factor is not None}, key=lambda t: (t[0], t[1].value, t[2]))
    requests += [ReadRequest(u, t, a, 1, (), (a,)) for u, t, a in sfs]
    return requests


async def measure(devices: list[DeviceConfig], *, naive: bool, cycles: int, interval_s: float) -> list[float]:
    """Per grid slot: time from the slot to the last device's reading (the cycle time)."""
    done: dict[int, list[float]] = defaultdict(list)
    finished = asyncio.Event()

    async def collect(r: PollResult) -> None:
        slot = round(r.ts_ms / 1000 / interval_s)
        done[slot].append(r.ts_ms / 1000 + r.duration_s)  # when this device's reading was complete
        complete = [s for s, v in done.items() if len(v) == len(devices)]
        if len(complete) >= cycles + 1:
            finished.set()

    group = PollerGroup(devices=devices, on_result=collect, settings=PollSettings(offline_after=1000))
    if naive:
        for p in group.pollers.values():
            p.requests = naive_plan(p.points, p.config.unit_id)
    async with group:
        await asyncio.wait_for(finished.wait(), timeout=cycles * interval_s * 20 + 60)
    failed = {name: p.status.errors for name, p in group.pollers.items() if p.status.errors}
    if failed:
        raise SystemExit(f"devices failed during the benchmark: {failed}")
    slots = sorted(s for s, v in done.items() if len(v) == len(devices))[1 : cycles + 1]  # skip warm-up
    return [max(done[s]) - s * interval_s for s in slots]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()

    profiles = available_profiles()
    sim_devices: list[dict[str, Any]] = []
    gw_devices: list[DeviceConfig] = []
    for i, port in enumerate(free_ports(args.devices)):
        name = profiles[i % len(profiles)]
        kind = load_profile(name).kind.value
        unit = 1 if name != "victron_ess" else 227
        sim_devices.append({"name": f"d{i:02d}", "profile": name, "unit_id": unit,
                            "transport": {"type": "tcp", "host": "127.0.0.1", "port": port},
                            **SERIES.get(kind, {})})
        gw_devices.append(DeviceConfig.model_validate({
            "name": f"d{i:02d}", "profile": name, "unit_id": unit, "poll_interval_s": args.interval,
            "timeout_s": 2.0, "retries": 0, "transport": {"type": "tcp", "host": "127.0.0.1", "port": port}}))
    per_device = []
    for dev in gw_devices:
        profile = load_profile(dev.profile)
        points = profile.resolve(dev.profile_options)
        per_device.append((naive_requests(points), len(plan(points, profile.limits, unit_id=dev.unit_id)),
                           minimum_requests(points, profile, dev.unit_id)))

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sim.yaml"
        config.write_text(yaml.safe_dump({"simulator": {"speed": 1}, "devices": sim_devices}))
        argv = [sys.executable, "-m", "nzd", "simulate", str(config), "--log-level", "WARNING"]
        sim = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for d in sim_devices:
                wait_for_port(d["transport"]["port"], timeout_s=120)
            started = time.monotonic()
            nzd_times = asyncio.run(measure(gw_devices, naive=False, cycles=args.cycles,
                                            interval_s=args.interval))
            naive_times = asyncio.run(measure(gw_devices, naive=True, cycles=args.cycles,
                                              interval_s=args.interval))
            wall = time.monotonic() - started
        finally:
            sim.terminate()
            sim.wait(timeout=30)

    def stats(xs: list[float]) -> dict[str, float]:
        return {"median": round(statistics.median(xs), 4), "max": round(max(xs), 4)}

    print(json.dumps({
        "benchmark": "gateway_poll",
        "devices": args.devices,
        "transport": "tcp",
        "profiles": len(profiles),
        "requests_per_cycle": {"naive": sum(n for n, _, _ in per_device),
                               "nzd": sum(p for _, p, _ in per_device),
                               "minimum": sum(m for _, _, m in per_device)},
        "cycle_time_s": {"nzd": stats(nzd_times), "naive": stats(naive_times)},
        "speedup_median": round(statistics.median(naive_times) / statistics.median(nzd_times), 2),
        "cycles": args.cycles,
        "poll_interval_s": args.interval,
        "wall_s": round(wall, 1),
    }))


if __name__ == "__main__":
    main()
