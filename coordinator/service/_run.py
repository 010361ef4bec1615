"""``nzd coordinator run``: build everything from settings and run until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from coordinator.service._planning import Planner
from coordinator.service._service import CoordinatorService
from coordinator.settings import CoordinatorSettings
from nzd.config import load_district
from nzd.logs import configure_logging

__all__ = ["run_coordinator"]

log = logging.getLogger(__name__)


async def run_coordinator(settings: CoordinatorSettings, *, planner: Planner | None = None) -> None:
    """Load the registry, open the store, plan and dispatch until a signal arrives.

    Raises :class:`nzd.ConfigError` for a bad district file (before anything starts).
    """
    district = load_district(settings.district_file)
    if planner is None:
        from coordinator.optimiser import PlanOptions
        from coordinator.service._optimiser import optimiser_planner

        planner = optimiser_planner(options=PlanOptions(mip_rel_gap=settings.mip_gap,
                                                        time_limit_s=settings.solve_time_limit_s))
    store = None
    if settings.store_events:
        from nzd.store import open_store

        store = open_store(settings)
    service = CoordinatorService(settings=settings, district=district, planner=planner, store=store,
                                 open_store=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("coordinator for district %s: a plan every %.0f s, setpoints valid %.0f s",
             district.district, settings.planning_interval_s, settings.validity_s)
    task = asyncio.create_task(service.run())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        # Cancel until it ends: Python 3.11's wait_for (inside aiomqtt) can swallow one cancellation.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        with contextlib.suppress(asyncio.CancelledError):
            task.result()
    finally:
        stopping.cancel()
        if store is not None:
            with contextlib.suppress(Exception):
                await store.close()
        log.info("coordinator stopped")




def main(**overrides: object) -> int:
    """Settings from ``NZD_*`` (plus ``overrides``), logging, and the service until a signal.

    Returns the process exit code: 0 after a signal, 2 for bad settings or a bad district file.
    """
    from pydantic import ValidationError

    from nzd.errors import ConfigError

    try:
        settings = CoordinatorSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        print(f"invalid settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json_logs=settings.log_json, secrets=settings.secret_values())
    try:
        asyncio.run(run_coordinator(settings))
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return 2
    return 0
