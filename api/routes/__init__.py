"""The API's routers, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from api.routes import alerts, auth, district, kpis, live, ops, plans, production, readings, status, water

ROUTERS: list[APIRouter] = [
    district.router,
    readings.router,
    kpis.router,
    water.router,
    production.router,
    plans.router,
    status.router,
    alerts.router,
    live.router,
    auth.router,
    ops.router,
]

__all__ = ["ROUTERS"]
