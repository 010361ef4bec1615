"""The district clock: simulated time from the environment, the same in every process."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from nzd.clock import ENV_ORIGIN, ENV_SPEED, ENV_START, Clock


def test_without_variables_it_is_the_wall_clock() -> None:
    clock = Clock.from_env({})
    assert not clock.is_simulated
    assert abs(clock.now_s() - time.time()) < 0.5
    assert clock.env() == {}


def test_simulated_time_stands_until_the_origin_then_runs_at_its_speed() -> None:
    wall_ms = time.time_ns() // 1_000_000
    start_ms = 1_781_672_400_000  # 2026-06-17 07:00 in Rome
    waiting = Clock.simulated(start_ms=start_ms, speed=60, origin_ms=wall_ms + 60_000)
    assert waiting.now_ms() == start_ms
    assert 59 < waiting.real_until(start_ms / 1000 + 600) < 71  # a minute to the origin, 10 s after
    running = Clock.simulated(start_ms=start_ms, speed=60, origin_ms=wall_ms - 10_000)
    # 10 real seconds at 60x: 10 simulated minutes
    assert 600_000 <= running.now_ms() - start_ms < 600_000 + 60 * 500
    assert running.real_s(900) == 15


def test_a_child_process_reads_the_same_time_from_its_environment() -> None:
    clock = Clock.simulated(start_ms=1_781_672_400_000, speed=3600)
    before = clock.now_ms()
    out = subprocess.run([sys.executable, "-c", "from nzd.clock import district_clock; "
                          "print(district_clock().now_ms())"], env=clock.env(), capture_output=True,
                         text=True, timeout=60, check=True)
    after = clock.now_ms()
    assert before <= int(out.stdout) <= after


def test_bad_variables_are_named() -> None:
    with pytest.raises(ValueError, match=ENV_SPEED):
        Clock.from_env({ENV_START: "1", ENV_ORIGIN: "1", ENV_SPEED: "fast"})
    with pytest.raises(ValueError, match=ENV_ORIGIN):
        Clock.from_env({ENV_START: "1"})
    with pytest.raises(ValueError, match="speed"):
        Clock.simulated(start_ms=0, speed=0)
