"""Setpoint execution: validate, write, read back, acknowledge; the watchdog fallback.

Every setpoint that arrives gets exactly one acknowledgement (a redelivery of
the last applied id is acknowledged again without a second write). When the
setpoint in force ends and none replaces it, the watchdog writes the asset's
configured fallback and acknowledges ``fallback``, with the broker up or not.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from gateway.control._state import AssetState, SetpointStateStore
from gateway.control._validate import Decision, is_older, judge, ramp_verdict
from gateway.delivery import DiskWorker
from nzd.clock import district_clock
from nzd.config import AssetConfig
from nzd.errors import ContractError
from nzd.messages import Ack, AckResult, Setpoint, decode, encode
from nzd.topics import TopicKind, parse_topic

__all__ = ["PointWriter", "SetpointController", "WriteResult"]

log = logging.getLogger(__name__)

#: How often the watchdog looks for ended setpoints and setpoints whose window opened.
WATCHDOG_PERIOD_S = 0.2


@dataclass(frozen=True, slots=True)
class WriteResult:
    read_back: float
    resolution: float = 0.0
    """Smallest step the register can hold (its scale); read-back may differ by half of it."""


class PointWriter(Protocol):
    async def write_point(self, *, device: str, quantity: str, value: float) -> WriteResult:
        """Write ``value`` to the device's writable point and read it back; raises on failure."""
        ...


def _now_ms() -> int:
    return district_clock().now_ms()


class SetpointController:
    def __init__(self, *, assets: Sequence[AssetConfig], writer: PointWriter, store: SetpointStateStore,
                 disk: DiskWorker, send_ack: Callable[[Ack], Awaitable[None]],
                 clock_ms: Callable[[], int] = _now_ms) -> None:
        self.assets = {a.name: a for a in assets}
        self.writer = writer
        self.store = store
        self.disk = disk
        self.send_ack = send_ack
        self.clock_ms = clock_ms
        self.state: dict[str, AssetState] = {}
        self.pending: dict[str, Setpoint] = {}
        self.counts: Counter[str] = Counter()
        """Setpoints by outcome (applied, rejected, ..., malformed)."""
        self._locks = {name: asyncio.Lock() for name in self.assets}
        self._retry_at_ms: dict[str, int] = {}
        self._retry_pause_ms: dict[str, int] = {}

    async def start(self) -> None:
        self.state = await self.disk.run(self.store.load)
        for asset, payload in (await self.disk.run(self.store.load_held)).items():
            try:
                self.pending[asset] = decode(payload, Setpoint)
            except ContractError as exc:  # written by this code; a damaged row is dropped, said
                log.error("held setpoint for %s unreadable, dropped: %s", asset, exc)

    # -- incoming ------------------------------------------------------------------------------
    async def handle(self, topic: str, payload: bytes) -> None:
        """One message from the setpoint topic; never raises on bad input."""
        try:
            name = parse_topic(topic)
            if name.kind is not TopicKind.SETPOINT:
                raise ContractError(field="topic", value=topic, reason="not a setpoint topic")
            setpoint = decode(payload, Setpoint)
        except ContractError as exc:
            self.counts["malformed"] += 1
            log.warning("malformed setpoint on %s: %s", topic, exc)
            asset_name = _asset_of(topic)
            if asset_name is not None:
                await self._ack(Ack(asset=asset_name, result=AckResult.REJECTED, ts=self.clock_ms(),
                                    reason=f"malformed setpoint: {exc}"))
            return
        if setpoint.asset != name.name:
            await self._finish(setpoint, AckResult.REJECTED,
                               reason=f"asset {setpoint.asset!r} sent on the topic of {name.name!r}")
            return
        lock = self._locks.get(setpoint.asset)
        if lock is None:
            await self._consider(setpoint)
            return
        async with lock:
            await self._consider(setpoint)

    async def _consider(self, sp: Setpoint) -> None:
        asset = self.assets.get(sp.asset)
        state = self.state.get(sp.asset, AssetState())
        verdict = judge(sp, asset=asset, state=state, now_ms=self.clock_ms())
        if verdict.decision is Decision.DUPLICATE:
            self.counts["duplicate"] += 1
            await self._ack(Ack(setpoint_id=sp.id, asset=sp.asset, result=AckResult.APPLIED,
                                ts=self.clock_ms(), value=state.last_value,
                                reason="delivered again; applied once"))
        elif verdict.decision is Decision.EXPIRED:
            await self._finish(sp, AckResult.EXPIRED, reason=verdict.reason)
        elif verdict.decision is Decision.REJECT:
            await self._finish(sp, AckResult.REJECTED, reason=verdict.reason)
        elif verdict.decision is Decision.WAIT:
            old = self.pending.get(sp.asset)
            if old is not None and old.id == sp.id:
                return  # a redelivery of the held setpoint: it is acknowledged when its window opens
            if old is not None and is_older(sp, issued_ms=old.issued_at, sp_id=old.id):
                await self._finish(sp, AckResult.REJECTED, reason=f"setpoint {old.id} is already queued")
                return
            self.pending[sp.asset] = sp
            # Persisted: the broker was told it arrived, so a restart must not forget it.
            await self.disk.run(self.store.hold, sp.asset, encode(sp))
            if old is not None:
                await self._finish(old, AckResult.REJECTED, reason=f"superseded by setpoint {sp.id}")
        else:
            assert asset is not None
            await self._apply(sp, asset)

    async def _apply(self, sp: Setpoint, asset: AssetConfig) -> None:
        try:
            result = await self.writer.write_point(device=asset.device, quantity=asset.point, value=sp.value)
        except Exception as exc:  # a Modbus error, a lost link: the asset is left as it was
            log.warning("setpoint %s for %s failed: %s", sp.id, sp.asset, exc)
            await self._finish(sp, AckResult.FAILED, reason=f"write failed: {exc}")
            return
        now = self.clock_ms()
        mismatch = _mismatch(sp.value, result)
        written = AssetState(last_id=sp.id, last_value=result.read_back, last_write_ms=now,
                             active_until_ms=sp.valid_until, fallback_applied=False,
                             last_issued_ms=sp.issued_at)
        if mismatch:
            # Keep the id (no second write on redelivery) but let the watchdog still fall back.
            await self._save(sp.asset, written)
            await self._finish(sp, AckResult.FAILED, value=result.read_back, reason=mismatch)
            return
        await self._save(sp.asset, written)
        await self._finish(sp, AckResult.APPLIED, value=result.read_back)

    # -- watchdog ------------------------------------------------------------------------------
    async def watchdog(self) -> None:
        """Run forever: open held setpoints, fall back when validity ends."""
        while True:
            await self.tick()
            await asyncio.sleep(WATCHDOG_PERIOD_S)

    async def tick(self) -> None:
        now = self.clock_ms()
        for name, asset in self.assets.items():
            async with self._locks[name]:
                held = self.pending.get(name)
                if held is not None and now >= held.valid_from:
                    del self.pending[name]
                    await self.disk.run(self.store.release, name)
                    await self._consider(held)
                state = self.state.get(name)
                # A setpoint held for a later window does not keep the ended one in force.
                if (state is not None and state.active_until_ms is not None and not state.fallback_applied
                        and now >= state.active_until_ms and now >= self._retry_at_ms.get(name, 0)):
                    await self._fallback(asset, state)

    async def _fallback(self, asset: AssetConfig, state: AssetState) -> None:
        value = asset.fallback.value
        ramp = ramp_verdict(value=value, asset=asset, state=state, now_ms=self.clock_ms())
        if ramp.decision is Decision.REJECT:
            # Safety first: the fallback is the safe mode, it is written anyway; the log says so.
            log.warning("fallback of %s exceeds its ramp limit: %s", asset.name, ramp.reason)
        try:
            result = await self.writer.write_point(device=asset.device, quantity=asset.point, value=value)
        except Exception as exc:
            # State unchanged: tried again after a pause that doubles up to a minute.
            pause = min(2 * self._retry_pause_ms.get(asset.name, 500), 60_000)
            self._retry_pause_ms[asset.name] = pause
            self._retry_at_ms[asset.name] = self.clock_ms() + pause
            self.counts["fallback_failed"] += 1
            log.error("fallback of %s failed, retrying in %.1f s: %s", asset.name, pause / 1000, exc)
            return
        self._retry_pause_ms.pop(asset.name, None)
        self._retry_at_ms.pop(asset.name, None)
        now = self.clock_ms()
        await self._save(asset.name, replace(state, last_value=result.read_back, last_write_ms=now,
                                             active_until_ms=None, fallback_applied=True))
        mismatch = _mismatch(value, result)
        self.counts["fallback"] += 1
        await self._ack(Ack(asset=asset.name, result=AckResult.FALLBACK, ts=now, value=result.read_back,
                            reason=mismatch or f"no valid setpoint left: {asset.fallback.description}"))

    # -- helpers -------------------------------------------------------------------------------
    async def _save(self, asset: str, state: AssetState) -> None:
        self.state[asset] = state
        await self.disk.run(self.store.save, asset, state)

    async def _finish(self, sp: Setpoint, result: AckResult, *, value: float | None = None,
                      reason: str | None = None) -> None:
        self.counts[result.value] += 1
        if result is not AckResult.APPLIED:
            log.info("setpoint %s for %s %s: %s", sp.id, sp.asset, result.value, reason)
        await self._ack(Ack(setpoint_id=sp.id, asset=sp.asset, result=result, ts=self.clock_ms(),
                            value=value, reason=reason))

    async def _ack(self, ack: Ack) -> None:
        try:
            await self.send_ack(ack)
        except Exception as exc:  # the broker went away; the coordinator resends what it misses
            self.counts["ack_unsent"] += 1
            log.warning("acknowledgement for %s not sent: %s", ack.asset, exc)


def _mismatch(value: float, result: WriteResult) -> str | None:
    tolerance = max(result.resolution / 2.0, abs(value) * 1e-9) + 1e-9
    if abs(result.read_back - value) > tolerance:
        return f"read back {result.read_back:g} after writing {value:g}"
    return None


def _asset_of(topic: str) -> str | None:
    try:
        parsed = parse_topic(topic)
    except ContractError:
        return None
    return parsed.name if parsed.kind is TopicKind.SETPOINT else None
