"""The coordinator service: live state in, a plan per interval, setpoints out, answers tracked."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coordinator.dispatch import (
    AckTracker,
    AssetKey,
    ManualOverrides,
    Resolution,
    SetpointIds,
    Target,
    build_setpoints,
    controllable_assets,
    validity_window,
)
from coordinator.load_progress import restore_load_progress
from coordinator.service._answers import ack_event, track_load
from coordinator.service._events import EventWriter
from coordinator.service._http import HealthServer
from coordinator.service._metrics import CoordinatorMetrics
from coordinator.service._mqtt import MqttLink, NotConnected
from coordinator.service._planning import (
    Planner,
    PlanOutcome,
    PlanRequest,
    new_plan_id,
    safe_mode_outcome,
)
from coordinator.service._presence import presence_of, presence_task
from coordinator.service._water import SeverityReader, has_water_meters, leak_check_task
from coordinator.settings import CoordinatorSettings
from coordinator.state import LiveState
from coordinator.water import LeakSettings
from nzd.clock import district_clock
from nzd.config import DistrictConfig
from nzd.errors import ContractError
from nzd.messages import Ack, GatewayStatus, Setpoint, Telemetry, decode, encode
from nzd.store.base import Event, EventKind, TelemetryStore
from nzd.topics import TopicKind, parse_topic, setpoint_topic, site_filter

if TYPE_CHECKING:
    from coordinator.forecast._history import SiteHistory

__all__ = ["CoordinatorService", "PlanRecord"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlanRecord:
    plan_id: str
    status: str
    start_ms: int
    made_at_s: float
    solve_s: float
    setpoints_sent: int
    setpoints_unsent: int


class CoordinatorService:
    """Run with :meth:`run` (until cancelled); :meth:`plan_and_dispatch` makes one planning step.

    ``store`` receives plans, setpoints and acknowledgements; with ``open_store`` the service
    opens it itself (retrying in the background, so that dispatch never waits for the store).
    """

    def __init__(self, *, settings: CoordinatorSettings, district: DistrictConfig, planner: Planner,
                 store: TelemetryStore | None = None, open_store: bool = False,
                 metrics: CoordinatorMetrics | None = None,
                 wall_clock_s: Callable[[], float] | None = None) -> None:
        self.settings = settings
        self.district = district
        self.metrics = metrics or CoordinatorMetrics()
        self.state = LiveState(district=district, stale_after_s=settings.state_stale_s)
        self.acks = AckTracker(ack_timeout_s=settings.ack_timeout_s)
        self.last_plan: PlanRecord | None = None
        self._planner = planner
        self._open_store = open_store
        self._store = store
        self._loads_restored = not any(site.flexible_loads for site in district.sites)
        # District time (simulated in the demo); intervals are district seconds, slept at its speed.
        clock = district_clock()
        self._clock = wall_clock_s or clock.now_s
        self._district_clock = clock if wall_clock_s is None else None
        self._ids = SetpointIds()
        self._manual = ManualOverrides()
        self._controllable = {a.key: a for a in controllable_assets(district)}
        self._events = EventWriter(store=store if settings.store_events else None, metrics=self.metrics)
        self.presence = presence_of(settings=settings, district=district, now_ms=int(self._clock() * 1000))
        self.severity = SeverityReader(store=store if settings.store_events else None, district=district,
                                       timeout_s=min(settings.solve_time_limit_s, 10.0))
        d = district.district
        self.mqtt = MqttLink(
            settings=settings, metrics=self.metrics, on_message=self.on_message,
            # Acknowledgements at QoS 1, so the broker keeps them for us across a reconnect; live
            # state at QoS 0, so it does not queue hours of telemetry while we are away.
            subscriptions=[(site_filter(TopicKind.ACK, district=d), 1),
                           (site_filter(TopicKind.SETPOINT, district=d), 1),
                           (site_filter(TopicKind.STATUS, district=d), 0),
                           (site_filter(TopicKind.TELEMETRY, district=d), 0)])
        self.http = HealthServer(host=settings.http_host, port=settings.metrics_port,
                                 registry=self.metrics.registry, health=self.health)
        self._started_s = self._clock()
        self._planned = asyncio.Condition()

    # -- running -------------------------------------------------------------------------------

    async def run(self) -> None:
        await self.http.start()
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.mqtt.run(), name="mqtt")
                tg.create_task(self._events.run(open_store=self._open_store), name="events")
                tg.create_task(self._ack_loop(), name="acks")
                tg.create_task(self._plan_loop(), name="plans")
                tg.create_task(presence_task(
                    presence=self.presence, mqtt=self.mqtt, events=self._events,
                    store=self._store if self.settings.store_events else None,
                    district=self.district.district, metrics=self.metrics,
                    period_s=self.settings.presence_check_s, restore_timeout_s=10.0,
                    clock_ms=lambda: int(self._clock() * 1000)), name="presence")
                if (leak_store := self._leak_check_store()) is not None:
                    tg.create_task(leak_check_task(
                        store=leak_store, mqtt=self.mqtt, district=self.district,
                        interval_s=self.settings.leak_check_interval_s,
                        settings=LeakSettings(bucket_s=self.settings.leak_bucket_s), metrics=self.metrics,
                        ready=self._leak_check_ready, clock_s=self._clock), name="leaks")
        finally:
            await self.http.close()

    def _leak_check_store(self) -> TelemetryStore | None:
        """The store the leak check reads, or None when the check is off."""
        if self.settings.leak_check_interval_s == 0 or not has_water_meters(self.district):
            return None
        if self._store is None or not self.settings.store_events:
            log.warning("no store: the leak check is off (it reads flow history from the store)")
            return None
        return self._store

    async def _leak_check_ready(self) -> None:
        await self._events.opened.wait()
        await self.mqtt.connected.wait()

    async def _plan_loop(self) -> None:
        interval_s = self.settings.planning_interval_s
        # The first plan waits for the broker (bounded) so that its setpoints go out.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.mqtt.connected.wait(), timeout=interval_s)
        if self._store is not None and not self._loads_restored:
            # Flexible-load progress comes back from the store (bounded: a store that is down
            # must not hold the plan back; the next plans try again).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._events.opened.wait(), timeout=min(5.0, interval_s))
        while True:
            try:
                await self.plan_and_dispatch()
            except Exception:  # logged and counted; the next interval tries again
                self.metrics.plans.labels(status="error").inc()
                log.exception("planning step failed")
            now_s = self._clock()
            next_s = (now_s // interval_s + 1) * interval_s
            if self._district_clock is not None:
                await asyncio.sleep(self._district_clock.real_until(next_s))
            else:
                await asyncio.sleep(max(next_s - now_s, 0.0))

    async def _ack_loop(self) -> None:
        period_s = min(self.settings.ack_timeout_s / 4, 1.0)
        while True:
            await asyncio.sleep(period_s)
            for res in self.acks.expire():
                log.warning("no acknowledgement for setpoint %s of %s/%s within %.1f s",
                            res.setpoint.id if res.setpoint else None, res.key.site, res.key.asset,
                            self.settings.ack_timeout_s)
                self._resolved(res)

    # -- planning and dispatch -----------------------------------------------------------------

    async def plan_and_dispatch(self) -> PlanRecord:
        now_s = self._clock()
        now_ms = int(now_s * 1000)
        interval_ms = int(self.settings.planning_interval_s * 1000)
        start_ms = now_ms // interval_ms * interval_ms
        manual = self._manual.active(now_ms=now_ms)
        excluded = self.acks.excluded() | self._behind_offline_gateways() | manual
        plan_id = new_plan_id(start_ms)
        t0 = time.perf_counter()
        if not self._loads_restored and self._events.opened.is_set():
            await self._restore_loads(now_ms)
        # Drought mode: the operator's level, read from the store each plan.
        severity = await self.severity.read(store_open=self._events.opened.is_set())
        district_now = self.state.district_now(now_ms=now_ms).model_copy(update={"water_severity": severity})
        request = PlanRequest(district=district_now, start_ms=start_ms,
                              snapshot=self.state.snapshot(now_ms=now_ms, plan_start_ms=start_ms),
                              excluded=excluded,
                              plan_id=plan_id, history=await self._history(now_ms))
        try:
            outcome = await asyncio.to_thread(self._planner, request)
        except Exception as exc:  # there is always a plan: the safe one
            log.exception("planning failed; dispatching every asset's safe local mode")
            outcome = safe_mode_outcome(self.district, status="error", reason=repr(exc))
        solve_s = time.perf_counter() - t0
        if outcome.status in ("safe_mode", "lp_fallback"):  # the operator must learn why
            log.warning("plan %s is %s: %s (stale: %s; excluded: %s)", plan_id, outcome.status,
                        outcome.document.get("message"), ", ".join(request.snapshot.stale) or "none",
                        ", ".join(f"{k.site}/{k.asset}" for k in sorted(excluded)) or "none")
        self.metrics.plan_made(status=outcome.status, solve_s=solve_s, at_s=now_s)
        self.metrics.excluded_assets.set(len(excluded))
        self.metrics.manual_overrides.set(len(manual))
        targets = [t for t in self._checked_targets(outcome, excluded) if t.key not in manual]
        baselines = outcome.document.pop("baselines", None)
        if baselines is not None:  # the day's plan against both baselines (coordinator/baselines.py)
            self._events.put(Event(EventKind.BASELINE, self.district.district, "*", start_ms,
                                   str(baselines["day_start_ms"]), {**baselines, "plan_id": plan_id}))
        self._events.put(Event(EventKind.PLAN, self.district.district, "*", now_ms, plan_id, {
            **outcome.document,
            "plan_id": plan_id, "status": outcome.status, "start_ms": start_ms, "solve_s": solve_s,
            "water_severity": severity.value,
            "excluded": [f"{k.site}/{k.asset}" for k in sorted(excluded)],
            "stale": request.snapshot.stale,
            "manual": [f"{k.site}/{k.asset}" for k in sorted(manual)],
            "targets": [{"site": t.site, "asset": t.asset, "quantity": t.quantity, "value": t.value}
                        for t in targets],
        }))
        sent_ms = int(self._clock() * 1000)
        if sent_ms - start_ms >= interval_ms:
            self.metrics.late_plans.inc()
            log.warning("plan %s is late: made %.1f s after its interval began (interval %.1f s)",
                        plan_id, (sent_ms - start_ms) / 1000, interval_ms / 1000)
        sent, unsent = await self._dispatch(targets, start_ms=start_ms, sent_ms=sent_ms, plan_id=plan_id)
        record = PlanRecord(plan_id, outcome.status, start_ms, now_s, solve_s, sent, unsent)
        log.info("plan %s: %s in %.2f s, %d setpoints sent, %d unsent, %d assets excluded",
                 plan_id, outcome.status, solve_s, sent, unsent, len(excluded))
        async with self._planned:
            self.last_plan = record
            self._planned.notify_all()
        return record

    async def _restore_loads(self, now_ms: int) -> None:
        """After a restart: how far flexible loads got today, from the stored acknowledgements."""
        assert self._store is not None
        try:
            n = await asyncio.wait_for(restore_load_progress(self.state.loads, store=self._store,
                                                             district=self.district, now_ms=now_ms),
                                       timeout=self.settings.solve_time_limit_s)
        except Exception as exc:  # the next plan tries again
            log.warning("flexible-load progress not restored from the store yet: %r", exc)
            return
        self._loads_restored = True
        log.info("flexible-load progress restored from %d stored acknowledgements", n)

    def _behind_offline_gateways(self) -> frozenset[AssetKey]:
        """Assets whose device's gateway is offline: nothing would reach them."""
        offline = self.state.offline_devices()
        return frozenset(a.key for a in self._controllable.values()
                         if a.device is not None and (a.key.site, a.device) in offline)

    async def _history(self, now_ms: int) -> SiteHistory | None:
        if self._store is None or self.settings.history_days == 0:
            return None
        from coordinator.service._history import load_history

        try:
            return await asyncio.wait_for(
                load_history(self._store, self.district, end_ms=now_ms, days=self.settings.history_days),
                timeout=self.settings.solve_time_limit_s)
        except Exception as exc:  # the store is down or slow: plan on live values
            log.warning("history unavailable, planning without it: %r", exc)
            return None

    def _checked_targets(self, outcome: PlanOutcome, excluded: frozenset[AssetKey]) -> list[Target]:
        out: list[Target] = []
        for t in outcome.targets:
            asset = self._controllable.get(t.key)
            if asset is None:
                log.error("plan %s names %s/%s, which is no controllable asset; skipped",
                          outcome.status, t.site, t.asset)
                continue
            if t.key in excluded and asset.fallback_value is not None:
                # Whatever the planner did, an excluded battery idles (the setpoint doubles as a probe).
                t = Target(t.site, t.asset, asset.quantity, asset.fallback_value)
            out.append(t)
        return out

    async def _dispatch(self, targets: list[Target], *, start_ms: int, sent_ms: int,
                        plan_id: str) -> tuple[int, int]:
        valid_from, valid_until = validity_window(
            interval_start_ms=start_ms, sent_at_ms=sent_ms,
            interval_ms=int(self.settings.planning_interval_s * 1000),
            validity_ms=int(self.settings.validity_s * 1000))
        sent = unsent = 0
        for site, sp in build_setpoints(targets=targets, valid_from_ms=valid_from, valid_until_ms=valid_until,
                                        issued_at_ms=sent_ms, ids=self._ids, plan_id=plan_id):
            topic = setpoint_topic(district=self.district.district, site=site, asset=sp.asset)
            try:
                await self.mqtt.publish(topic, encode(sp), qos=1)
            except NotConnected as exc:
                unsent += 1
                self.metrics.setpoints_unsent.inc()
                log.warning("setpoint %d for %s/%s not sent: %s", sp.id, site, sp.asset, exc)
                continue
            self.acks.sent(site, sp)
            sent += 1
            self.metrics.setpoints_sent.inc()
            self._events.put(self._setpoint_event(site, sp))
        return sent, unsent

    def _setpoint_event(self, site: str, sp: Setpoint) -> Event:
        return Event(EventKind.SETPOINT, self.district.district, site, sp.issued_at, f"{sp.asset}:{sp.id}",
                     {"site": site, **sp.model_dump(mode="json", exclude_none=True)})

    # -- incoming messages ---------------------------------------------------------------------

    async def on_message(self, topic: str, payload: bytes) -> None:
        """Take one MQTT message; a bad one is counted and logged, never raised."""
        try:
            parsed = parse_topic(topic)
        except ContractError as exc:
            self.metrics.bad_messages.labels(kind="topic").inc()
            log.warning("message on a topic outside the contract: %s", exc)
            return
        kind = parsed.kind.value
        try:
            if parsed.kind is TopicKind.TELEMETRY:
                reading = decode(payload, Telemetry)
                self.state.on_telemetry(parsed.site, reading)
                self.presence.on_telemetry(parsed.site, reading, now_mono=time.monotonic())
            elif parsed.kind is TopicKind.STATUS:
                status = decode(payload, GatewayStatus)
                self.state.on_status(parsed.site, status)
                self.presence.on_status(parsed.site, status, now_mono=time.monotonic())
            elif parsed.kind is TopicKind.SETPOINT:
                sp = decode(payload, Setpoint)
                if sp.asset != parsed.name:
                    raise ContractError(field="asset", value=sp.asset,
                                        reason=f"must match the topic's asset {parsed.name!r}")
                self._manual.seen(parsed.site, sp)
            elif parsed.kind is TopicKind.ACK:
                ack = decode(payload, Ack)
                if ack.asset != parsed.name:
                    raise ContractError(field="asset", value=ack.asset,
                                        reason=f"must match the topic's asset {parsed.name!r}")
                self._resolved(self.acks.on_ack(parsed.site, ack))
            else:
                return
        except ContractError as exc:
            self.metrics.bad_messages.labels(kind=kind).inc()
            log.warning("bad %s message on %s: %s", kind, topic, exc)
            return
        self.metrics.messages.labels(kind=kind).inc()

    def _resolved(self, res: Resolution) -> None:
        self.metrics.acks.labels(result=res.outcome.value).inc()
        now_ms = int(self._clock() * 1000)
        track_load(self.state.loads, res, now_ms=now_ms)
        if res.latency_s is not None:
            self.metrics.ack_latency_seconds.observe(res.latency_s)
        self.metrics.excluded_assets.set(len(self.acks.excluded()))
        self._events.put(ack_event(res, district=self.district.district, now_ms=now_ms))

    # -- health --------------------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, Any]]:
        now_s = self._clock()
        # Healthy: connected, and a plan made recently (or still within the first interval).
        max_age_s = 2 * self.settings.planning_interval_s + self.settings.solve_time_limit_s
        last = self.last_plan
        plan_fresh = (now_s - last.made_at_s <= max_age_s) if last else (now_s - self._started_s <= max_age_s)
        connected = self.mqtt.connected.is_set()
        details: dict[str, Any] = {
            "mqtt_connected": connected,
            "last_plan": None if last is None else {
                "plan_id": last.plan_id, "status": last.status, "start_ms": last.start_ms,
                "age_s": round(now_s - last.made_at_s, 3), "setpoints_sent": last.setpoints_sent},
            "pending_acks": self.acks.pending,
            "excluded_assets": [f"{k.site}/{k.asset}" for k in sorted(self.acks.excluded())],
        }
        return connected and plan_fresh, details

    async def wait_for_plan(self, *, after: PlanRecord | None = None) -> PlanRecord:
        """The next plan made after ``after`` (or the first one)."""
        async with self._planned:
            await self._planned.wait_for(lambda: self.last_plan is not None and self.last_plan is not after)
            assert self.last_plan is not None
            return self.last_plan

    async def drain_events(self) -> None:
        """Wait until every event so far reached the store (or was dropped)."""
        await self._events.drained()
