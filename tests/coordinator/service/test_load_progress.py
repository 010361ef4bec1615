"""Replanning mid-batch: the running service continues a started batch and plans only the rest of it,
and so does a restarted one, from the acknowledgements it stored.

Real Mosquitto, a scripted gateway that applies setpoints, the HiGHS planner; the
service's clock is set by the test (10:00, then 10:15) so the plans are hand-computable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from coordinator.forecast import Forecast
from coordinator.model import DistrictModel
from coordinator.service import CoordinatorService, PlanOutcome, PlanRequest
from coordinator.service._optimiser import optimiser_planner
from coordinator.state import LiveState
from nzd.config import DistrictConfig
from nzd.store import SqliteStore
from tests.coordinator.service.helpers import eventually, running, scripted_gateway, settings_for, unique
from tests.harness import MosquittoServer

TZ = ZoneInfo("Europe/Rome")
T10 = datetime(2026, 11, 25, 10, 0, tzinfo=TZ).timestamp()
DT_H = 0.25


def mill(name: str) -> DistrictConfig:
    # Import is cheapest from 10:00 to 12:00; a 40 kWh, 20 kW batch (2 h, not interruptible) fits there.
    imp = [0.30] * 24
    imp[10] = imp[11] = 0.10
    return DistrictConfig.model_validate({
        "district": name, "timezone": "Europe/Rome",
        "tariff": {"import_eur_per_kwh": imp, "export_eur_per_kwh": 0.0, "incentive_eur_per_mwh": 0,
                   "valorisation_eur_per_mwh": 0},
        "sites": [{"id": "mill", "name": "Mill", "pv": [{"id": "roof", "kwp": 100}],
                   "flexible_loads": [{"id": "batch", "energy_kwh": 40, "power_kw": 20,
                                       "earliest_start": "08:00", "deadline": "20:00",
                                       "min_run_minutes": 120, "asset": "dyeing"}]}],
    })


class Forecaster:
    """No load; PV only once ``sunny`` is set: 60 kW from 14:00 to 16:00, free energy for the batch."""

    sunny = False

    def __call__(self, model: DistrictModel, request: PlanRequest) -> Forecast:
        times = model.step_times_ms(request.start_ms)
        pv = np.zeros((1, times.size))
        if self.sunny:
            hour = np.array([datetime.fromtimestamp(t / 1000, TZ).hour for t in times])
            pv[0, (hour >= 14) & (hour < 16)] = 60.0
        return Forecast(start_ms=request.start_ms, step_minutes=model.step_minutes,
                        load_kw=np.zeros_like(pv), pv_kw=pv)


class Recording:
    """The HiGHS planner, remembering each plan's document."""

    def __init__(self, planner: Callable[[PlanRequest], PlanOutcome]) -> None:
        self.planner = planner
        self.documents: list[dict[str, object]] = []

    def __call__(self, request: PlanRequest) -> PlanOutcome:
        outcome = self.planner(request)
        self.documents.append(outcome.document)
        return outcome


def _batch_kw(document: dict[str, object]) -> list[float]:
    assets = document["assets"]
    assert isinstance(assets, list)
    (batch,) = [a for a in assets if a["asset_id"] == "batch"]
    return [float(v) for v in batch["power_kw"]]


async def test_a_replan_mid_batch_continues_it_and_delivers_exactly_its_energy(
    mosquitto: MosquittoServer,
) -> None:
    name = unique("batch")
    district = mill(name)
    forecaster = Forecaster()
    recording = Recording(optimiser_planner(forecaster=forecaster))
    documents = recording.documents

    clock = [T10]
    settings = settings_for(mosquitto.url, planning_interval_s=900.0, history_days=0)
    service = CoordinatorService(settings=settings, district=district, planner=recording,
                                 wall_clock_s=lambda: clock[0])
    async with scripted_gateway(mosquitto.host, mosquitto.port, name) as gw, running(service):
        await service.wait_for_plan()
        await eventually(lambda: service.acks.pending == 0 and len(gw.received) == 1,
                         what="the batch's first setpoint applied")
        # 10:00: the batch starts in the cheap hours.
        assert gw.values_for("dyeing") == [20_000.0]
        assert _batch_kw(documents[0])[:8] == [20.0] * 8

        # 10:15: PV at 14:00 now makes a later start free. A started batch may not move or restart.
        forecaster.sunny = True
        clock[0] = T10 + 900
        second = await service.plan_and_dispatch()
        await eventually(lambda: len(gw.received) == 2, what="the second setpoint")
    assert second.status == "optimal"
    assert gw.values_for("dyeing") == [20_000.0, 20_000.0]  # still running
    batch = _batch_kw(documents[1])
    # 5 kWh delivered from 10:00 to 10:15; the remaining 35 kWh are 7 quarter hours at 20 kW, at once.
    assert batch[:7] == [20.0] * 7 and sum(batch[7:]) == 0.0
    assert 5.0 + sum(batch) * DT_H == 40.0

    # Without the progress (a coordinator that forgot it), the same step would move the batch to the
    # PV hours and run all 40 kWh again: what the live state prevents.
    fresh = LiveState(district=district, stale_after_s=60)
    start_ms = int((T10 + 900) * 1000)
    outcome = recording.planner(PlanRequest(district=district, start_ms=start_ms,
                                  snapshot=fresh.snapshot(now_ms=start_ms), excluded=frozenset(),
                                  plan_id="forgetful"))
    forgetful = _batch_kw(outcome.document)
    assert forgetful[0] == 0.0 and sum(forgetful) * DT_H == 40.0


async def test_a_restarted_coordinator_continues_the_batch_from_the_stored_acks(
    mosquitto: MosquittoServer, tmp_path: Path,
) -> None:
    name = unique("restart")
    district = mill(name)
    forecaster = Forecaster()
    recording = Recording(optimiser_planner(forecaster=forecaster))
    documents = recording.documents

    settings = settings_for(mosquitto.url, planning_interval_s=900.0, history_days=0)
    path = tmp_path / "events.sqlite"
    first = CoordinatorService(settings=settings, district=district, planner=recording,
                               store=SqliteStore(path=path), open_store=True, wall_clock_s=lambda: T10)
    async with scripted_gateway(mosquitto.host, mosquitto.port, name) as gw:
        async with running(first):
            await first.wait_for_plan()
            await eventually(lambda: first.acks.pending == 0 and len(gw.received) == 1,
                             what="the batch's first setpoint applied")
            await first.drain_events()
        assert gw.values_for("dyeing") == [20_000.0]

        # The coordinator restarts at 10:15 with PV now forecast at 14:00: it must not move the batch.
        forecaster.sunny = True
        second = CoordinatorService(settings=settings.model_copy(update={"mqtt_client_id": unique("c2")}),
                                    district=district, planner=recording, store=SqliteStore(path=path),
                                    open_store=True, wall_clock_s=lambda: T10 + 900)
        async with running(second):
            await second.wait_for_plan()
            await eventually(lambda: len(gw.received) == 2, what="the restarted coordinator's setpoint")
    assert gw.values_for("dyeing") == [20_000.0, 20_000.0]
    batch = _batch_kw(documents[-1])
    assert batch[:7] == [20.0] * 7 and sum(batch[7:]) == 0.0
    assert 5.0 + sum(batch) * DT_H == 40.0
