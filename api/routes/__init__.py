"""The API's routers, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from api.routes import (
    alerts,
    auth,
    clock,
    controls,
    deadletters,
    district,
    inventory,
    kpis,
    live,
    ops,
    plans,
    prices,
    production,
    readings,
    recompute,
    reports,
    scenarios,
    settlement,
    status,
    target_proposals,
    targets,
    water,
    water_balance,
    water_night,
)

ROUTERS: list[APIRouter] = [
    district.router,
    clock.router,
    readings.router,
    kpis.router,
    settlement.router,
    targets.router,
    target_proposals.router,
    inventory.router,
    reports.router,
    prices.router,
    water.router,
    water_balance.router,
    water_night.router,
    scenarios.router,
    production.router,
    plans.router,
    controls.router,
    status.router,
    alerts.router,
    live.router,
    auth.router,
    ops.router,
    recompute.router,
    deadletters.router,
]

__all__ = ["ROUTERS"]
