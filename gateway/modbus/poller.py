"""Polling one device on a fixed time grid.

Cycle k of a device starts at ``k * poll_interval_s + poll_offset_s`` on the wall
clock (so devices with the same interval and offset are read together and cycles
never drift); a
cycle that overruns skips the slots it missed instead of bursting. Every
request has the device's timeout and is retried with exponential backoff; a
device that does not answer for ``offline_after`` cycles in a row is reported
offline and then tried again after a growing pause while the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from gateway.decode import Reading, encode
from gateway.modbus.errors import ModbusDeviceError, ModbusError
from gateway.modbus.metrics import poll_metrics
from gateway.modbus.result import DeviceStatus, PollResult
from gateway.modbus.transport import ModbusLink
from gateway.planner import ReadRequest, decode_responses, plan
from gateway.profiles import Point, Profile, Table
from nzd.clock import district_clock
from nzd.config import DeviceConfig
from nzd.messages import DeviceKind, Quality

__all__ = ["DevicePoller", "OnResult", "PollSettings"]

log = logging.getLogger(__name__)

OnResult = Callable[[PollResult], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PollSettings:
    """How hard to try before a device counts as offline, and how often to try it then."""

    offline_after: int = 3
    """Cycles in a row without an answer before the device is reported offline."""
    offline_retry_s: float = 5.0
    """First pause before an offline device is tried again; doubles up to the maximum."""
    offline_retry_max_s: float = 120.0
    retry_backoff_s: float = 0.05
    """Pause before the first retry of a request; doubles for each further retry."""


class DevicePoller:
    """Reads one device: its planned requests each cycle, decoded into one :class:`PollResult`."""

    def __init__(self, *, config: DeviceConfig, profile: Profile | None, link: ModbusLink,
                 on_result: OnResult | None = None, settings: PollSettings | None = None) -> None:
        """``profile`` None means SunSpec: the models are discovered before the first cycle."""
        self.config = config
        self.name = config.name
        self.link = link
        self.on_result = on_result
        self.settings = settings or PollSettings()
        self.profile: Profile | None = None
        self.kind = DeviceKind.PV_INVERTER
        self.points: list[Point] = []
        self.requests: list[ReadRequest] = []
        self._metrics = poll_metrics()
        self.status = DeviceStatus(poll_interval_s=config.poll_interval_s)
        if profile is not None:
            self._use(profile)
        self._retry_pause_s = self.settings.offline_retry_s

    def _use(self, profile: Profile) -> None:
        self.profile = profile
        self.kind = profile.kind
        self.points = profile.resolve(self.config.profile_options,
                                      where=f"devices[{self.config.name}].profile_options")
        self.requests = plan(self.points, profile.limits, unit_id=self.config.unit_id)
        self.status.headline = profile.headline_of(self.points)

    async def _discover(self) -> None:
        from gateway.modbus.sunspec import build_profile, discover

        self._metrics.requests.labels(self.name).inc()
        found = await discover(self.link, unit_id=self.config.unit_id, timeout_s=self.config.timeout_s)
        self._use(build_profile(found))
        log.info("%s: SunSpec models %s at %d", self.name, [m.id for m in found.models], found.base)

    @property
    def interval_s(self) -> float:
        return self.config.poll_interval_s

    def point(self, quantity: str) -> Point:
        for p in self.points:
            if p.quantity == quantity:
                return p
        model = self.profile.model if self.profile else "SunSpec, not discovered yet"
        raise KeyError(f"device {self.name} ({model}) has no point {quantity!r}")

    # -- one request, one cycle -------------------------------------------------------

    async def _request(self, req: ReadRequest) -> list[int]:
        """One read with retries; a Modbus exception response is not retried (it would repeat)."""
        attempts = 1 + self.config.retries
        pause = self.settings.retry_backoff_s
        for attempt in range(attempts):
            self._metrics.requests.labels(self.name).inc()
            try:
                return await self.link.read(table=req.table.value, address=req.address, count=req.count,
                                            unit_id=req.unit_id, timeout_s=self.config.timeout_s)
            except ModbusError as exc:
                self._count_error(exc)
                if isinstance(exc, ModbusDeviceError) or attempt == attempts - 1:
                    raise
            await asyncio.sleep(pause)
            pause *= 2
        raise AssertionError("unreachable")

    def _count_error(self, exc: ModbusError) -> None:
        self.status.errors += 1
        self.status.errors_by_reason[exc.reason] += 1
        self._metrics.errors.labels(self.name, exc.reason).inc()

    async def poll_once(self) -> PollResult:
        """Read every planned request once and decode; never raises on device trouble."""
        started = time.monotonic()
        ts_ms = district_clock().now_ms()  # the read time: every value of this cycle carries it
        if self.profile is None:
            try:
                await self._discover()
            except (ModbusError, LookupError) as exc:
                if isinstance(exc, ModbusError):
                    self._count_error(exc)
                failed = PollResult(device=self.name, kind=self.kind, ts_ms=ts_ms, values={}, quality={},
                                    duration_s=time.monotonic() - started, error=f"SunSpec discovery: {exc}")
                self._update_status(failed)
                return failed
        responses: list[list[int] | None] = []
        refused: list[bool] = []
        answered = False
        error: str | None = None
        sent_before = self.status.errors
        for req in self.requests:
            if error is not None and not answered:
                # the device is silent: do not spend a timeout on each remaining request
                responses.append(None)
                refused.append(False)
                continue
            try:
                responses.append(await self._request(req))
                refused.append(False)
                answered = True
            except ModbusDeviceError as exc:
                responses.append(None)
                refused.append(True)
                answered = True
                log.warning("%s: %s (%s %d+%d)", self.name, exc, req.table.value, req.address, req.count)
            except ModbusError as exc:
                responses.append(None)
                refused.append(False)
                error = str(exc)
        readings = decode_responses(self.requests, responses)
        for req, was_refused in zip(self.requests, refused, strict=True):
            if was_refused:
                for p in req.points:
                    readings[p.quantity] = Reading(None, Quality.BAD, None, "exception response")
        values, quality = _split(readings)
        requests_sent = len([r for r in responses if r is not None]) + (self.status.errors - sent_before)
        result = PollResult(device=self.name, kind=self.kind, ts_ms=ts_ms, values=values, quality=quality,
                            requests=requests_sent, duration_s=time.monotonic() - started,
                            error=None if answered else (error or "no answer"))
        self._update_status(result)
        return result

    def _update_status(self, result: PollResult) -> None:
        st = self.status
        st.cycles += 1
        m = self._metrics
        m.cycle_seconds.observe(result.duration_s)
        for q in result.quality.values():
            m.quality_flags.labels(self.name, q.value).inc()
        st.bad_values += len(result.quality)
        if result.ok:
            if not st.online and st.cycles > 1:
                log.info("%s is back online", self.name)
            st.online = True
            st.consecutive_failures = 0
            st.last_read_ts_ms = result.ts_ms
            st.detail = None if not result.quality else f"{len(result.quality)} quantities flagged"
            self._retry_pause_s = self.settings.offline_retry_s
            m.cycles.labels(self.name, "ok").inc()
        else:
            st.consecutive_failures += 1
            st.detail = result.error
            m.cycles.labels(self.name, "failed").inc()
            if st.consecutive_failures >= self.settings.offline_after:
                if st.online:
                    log.warning("%s is offline after %d failed cycles: %s", self.name,
                                st.consecutive_failures, result.error)
                st.online = False
        m.online.labels(self.name).set(1 if st.online else 0)

    # -- the loop -------------------------------------------------------------------

    def _offline(self) -> bool:
        return self.status.consecutive_failures >= self.settings.offline_after

    async def run(self) -> None:
        """Poll until cancelled, handing each result to ``on_result``."""
        interval = self.interval_s
        offset = self.config.poll_offset_s
        next_slot = math.ceil((time.time() - offset) / interval) * interval + offset
        while True:
            delay = next_slot - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                result = await self.poll_once()
            except Exception:  # a bug or an unforeseen library error must not end this device's polling
                log.exception("%s: poll cycle failed", self.name)
                self._count_error(ModbusError("unexpected"))
                self.status.consecutive_failures += 1
                self.status.detail = "internal error (see the log)"
            else:
                await self._deliver(result)
            earliest = time.time()
            if self._offline():
                earliest += self._retry_pause_s
                self._retry_pause_s = min(self._retry_pause_s * 2, self.settings.offline_retry_max_s)
            # the next slot on the grid that is still ahead; count the ones skipped by a slow cycle
            following = next_slot + interval
            slots = max(1, math.ceil((earliest - next_slot) / interval + 1e-9))
            next_slot += slots * interval
            if not self._offline() and next_slot > following:
                skipped = round((next_slot - following) / interval)
                self.status.overruns += skipped
                self._metrics.overruns.labels(self.name).inc(skipped)

    async def _deliver(self, result: PollResult) -> None:
        if self.on_result is None or not (result.values or result.quality):
            return
        try:
            await self.on_result(result)
        except Exception:  # a consumer bug must not stop the polling
            log.exception("%s: result callback failed", self.name)

    # -- setpoints ----------------------------------------------------------------------

    async def write_point(self, quantity: str, value: float) -> float:
        """Write ``value`` to the writable point ``quantity`` and return the value read back.

        Raises :class:`gateway.decode.EncodeError` (a ``ValueError``) for a value the
        point refuses, ``KeyError`` for an unknown quantity and
        :class:`~gateway.modbus.errors.ModbusError` when the device does not take it.
        """
        p = self.point(quantity)
        words = encode(p, value)
        unit = p.unit_id if p.unit_id is not None else self.config.unit_id
        timeout = self.config.timeout_s
        self._metrics.requests.labels(self.name).inc()
        try:
            if p.table is Table.COIL:
                await self.link.write_coil(address=p.address, value=bool(words[0]), unit_id=unit,
                                           timeout_s=timeout)
            else:
                await self.link.write_registers(address=p.address, words=words, unit_id=unit,
                                                timeout_s=timeout)
        except ModbusError as exc:
            self._count_error(exc)
            raise
        return await self.read_point(quantity)

    async def read_point(self, quantity: str) -> float:
        """Read one point now (outside the cycle); raises ``ModbusError`` or ``ValueError``."""
        p = self.point(quantity)
        unit = p.unit_id if p.unit_id is not None else self.config.unit_id
        assert self.profile is not None
        sub = plan([p], self.profile.limits, unit_id=unit)
        responses: list[Sequence[int] | None] = []
        for req in sub:
            responses.append(await self._request(req))
        reading = decode_responses(sub, responses)[quantity]
        if reading.value is None or isinstance(reading.value, str):
            raise ValueError(f"{self.name}.{quantity}: read back {reading.quality} ({reading.detail})")
        return float(reading.value)


def _split(readings: dict[str, Reading]) -> tuple[dict[str, float], dict[str, Quality]]:
    values: dict[str, float] = {}
    quality: dict[str, Quality] = {}
    for name, r in readings.items():
        if r.quality is not None:
            quality[name] = r.quality
        if isinstance(r.value, int | float) and not isinstance(r.value, bool) and math.isfinite(r.value):
            values[name] = float(r.value)
    return values, quality
