"""A small district, coordinator settings and a scripted gateway for service tests.

The scripted gateway talks to the real broker with contract messages: it answers
each setpoint as the test tells it (apply, reject, or stay silent).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import aiomqtt

from coordinator.dispatch import Target
from coordinator.service import CoordinatorService, PlanOutcome, PlanRequest
from coordinator.settings import CoordinatorSettings
from nzd.config import DistrictConfig
from nzd.messages import Ack, AckResult, Setpoint, Telemetry, decode, encode
from nzd.topics import TopicKind, ack_topic, parse_topic, site_filter, telemetry_topic

_counter = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}-{time.time_ns() % 1_000_000}"


def small_district(name: str) -> DistrictConfig:
    """Two sites: ``a`` with a battery (asset ``bat-a``), ``b`` with a flexible load (``load-b``)."""
    return DistrictConfig.model_validate({
        "district": name,
        "sites": [
            {"id": "a", "name": "Site A",
             "meters": [{"device": "meter-a", "role": "grid"}],
             "batteries": [{"id": "battery", "capacity_kwh": 100, "charge_kw": 50, "discharge_kw": 50,
                            "device": "bat-inv", "asset": "bat-a", "soc_initial_pct": 50}]},
            {"id": "b", "name": "Site B",
             "flexible_loads": [{"id": "batch", "energy_kwh": 10, "power_kw": 10, "asset": "load-b"}]},
        ],
    })


def settings_for(broker_url: str, **overrides: object) -> CoordinatorSettings:
    values: dict[str, object] = {
        "mqtt_url": broker_url, "planning_interval_s": 3600.0, "validity_intervals": 2.0,
        "ack_timeout_s": 30.0, "metrics_port": 0, "mqtt_client_id": unique("coordinator"),
        "reconnect_min_s": 0.1, "reconnect_max_s": 0.5,
    }
    values.update(overrides)
    return CoordinatorSettings.model_validate(values)


@dataclass
class FixedPlanner:
    """Plans the same values every time and remembers what it was asked."""

    values: dict[tuple[str, str, str], float] = field(default_factory=lambda: {
        ("a", "bat-a", "battery_power_setpoint_w"): 20_000.0,
        ("b", "load-b", "load_power_setpoint_w"): 10_000.0,
    })
    requests: list[PlanRequest] = field(default_factory=list)

    def __call__(self, request: PlanRequest) -> PlanOutcome:
        self.requests.append(request)
        targets = [Target(site, asset, q, v) for (site, asset, q), v in self.values.items()]
        return PlanOutcome(status="optimal", targets=targets, document={"objective_eur": 1.0})


Behaviour = Literal["apply", "reject", "silent"]


@dataclass
class ScriptedGateway:
    """Answers setpoints of one district over the real broker, per asset as told."""

    district: str
    behaviour: dict[str, Behaviour] = field(default_factory=dict)
    received: list[tuple[str, Setpoint]] = field(default_factory=list)
    client: aiomqtt.Client | None = None

    async def handle(self, topic: str, payload: bytes) -> None:
        parsed = parse_topic(topic)
        sp = decode(payload, Setpoint)
        self.received.append((parsed.site, sp))
        how = self.behaviour.get(sp.asset, "apply")
        if how == "silent" or self.client is None:
            return
        result = AckResult.APPLIED if how == "apply" else AckResult.REJECTED
        ack = Ack(setpoint_id=sp.id, asset=sp.asset, result=result, ts=int(time.time() * 1000),
                  value=sp.value if how == "apply" else None,
                  reason=None if how == "apply" else "outside the local limits")
        await self.client.publish(ack_topic(district=self.district, site=parsed.site, asset=sp.asset),
                                  encode(ack), qos=1)

    async def telemetry(self, *, site: str, device: str, values: dict[str, float], kind: str,
                        seq: int = 0) -> None:
        assert self.client is not None
        reading = Telemetry(ts=int(time.time() * 1000), seq=seq, device=device, kind=kind,  # type: ignore[arg-type]
                            values=values)
        await self.client.publish(telemetry_topic(district=self.district, site=site, device=device),
                                  encode(reading), qos=1)

    def values_for(self, asset: str) -> list[float]:
        return [sp.value for _, sp in self.received if sp.asset == asset]


@contextlib.asynccontextmanager
async def scripted_gateway(broker_host: str, broker_port: int, district: str,
                           **behaviour: Behaviour) -> AsyncIterator[ScriptedGateway]:
    gw = ScriptedGateway(district, {k.replace("_", "-"): v for k, v in behaviour.items()})
    async with aiomqtt.Client(broker_host, broker_port, identifier=unique("gw")) as client:
        gw.client = client
        await client.subscribe(site_filter(TopicKind.SETPOINT, district=district), qos=1)

        async def pump() -> None:
            async for message in client.messages:
                await gw.handle(message.topic.value, message.payload)

        task = asyncio.create_task(pump())
        try:
            yield gw
        finally:
            await stop(task)


async def eventually(check: Callable[[], bool | Awaitable[bool]], *, timeout_s: float = 20.0,
                     what: str = "condition") -> None:
    """Wait until ``check`` holds; the timeout only guards against hanging, it is not asserted on."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(service: CoordinatorService) -> AsyncIterator[None]:
    task = asyncio.create_task(service.run())
    try:
        yield
    finally:
        await stop(task)


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel until it ends: Python 3.11's wait_for (inside aiomqtt) can swallow one cancellation."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
