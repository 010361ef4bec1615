"""The app factory. Settings, the store, the users and the MQTT subscription are built in the
lifespan, so importing this module constructs nothing."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api.auth.throttle import LoginThrottle
from api.auth.users import load_users
from api.docs_ui import install_docs
from api.energy import archive_compute
from api.energy_archive import keep_archived
from api.latest_cache import LatestTable, keep_filled
from api.limits import BodyLimitMiddleware
from api.live import LiveHub
from api.logs import AccessLogMiddleware
from api.metrics import ApiMetrics
from api.problems import PROBLEM_RESPONSES, Problem, install_problem_handlers
from api.routes import ROUTERS
from api.settings import ApiSettings
from api.state import ApiState
from api.store_guard import DeadlineStore
from nzd._version import __version__
from nzd.config import load_district
from nzd.store.base import StoreError, TelemetryStore

__all__ = ["create_app"]

log = logging.getLogger("api")

_DESCRIPTION = """\
Live and historical data, plans, KPIs and alerts of a Net-Zero District.

**Roles.** `operator`: the whole district, may send manual setpoints. `site_manager`:
only their own sites, may acknowledge alerts there. Anyone without credentials is
`public` and sees district aggregates only, never a single firm's data.

**Credentials.** `Authorization: Bearer <token>` with an API token (`nzd_<id>_<secret>`) or
a JWT from `POST /api/v1/auth/login`. The live stream (`/api/v1/live`, server-sent events)
also takes `?access_token=` because browsers' EventSource cannot send headers.

**Errors** are `application/problem+json` (RFC 9457).
"""


async def _open_store(store: TelemetryStore) -> None:
    delay_s = 1.0
    while True:
        try:
            await store.open()
            return
        except StoreError as exc:
            log.warning("store unavailable (%s); retrying in %.0f s", exc, delay_s)
        await asyncio.sleep(delay_s)
        delay_s = min(delay_s * 2, 30.0)


def _freeze_startup_objects() -> None:
    """Keep what start-up built (modules, routes, models, registry: about 150,000 objects)
    out of the collector's full collections, which traverse every object of the oldest
    generation: measured under load (benchmarks/api.py), each took 70 to 90 ms of CPU on the
    event loop, every second or two, the p99 of a cached month of KPIs; without those objects, 2 to 4 ms."""
    gc.collect()
    gc.freeze()


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the API; ``settings`` default to ``NZD_*`` environment variables, read at startup."""
    metrics = ApiMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from nzd.store import open_store

        cfg = settings if settings is not None else ApiSettings()
        district = load_district(cfg.district_file)
        users = load_users(cfg.users_file)
        if cfg.jwt_secret is None:
            log.warning("NZD_JWT_SECRET is not set: using a random key, logins end when the API restarts")
        jwt_secret = cfg.jwt_secret.get_secret_value() if cfg.jwt_secret else secrets.token_urlsafe(32)
        store = DeadlineStore(open_store(cfg), timeout_s=cfg.store_timeout_s)
        opener = asyncio.create_task(_open_store(store), name="nzd-api-store-open")
        with contextlib.suppress(asyncio.TimeoutError):
            # Serve without the store if it is down (routes answer 503) and keep trying.
            await asyncio.wait_for(asyncio.shield(opener), timeout=cfg.store_open_wait_s)
        latest = LatestTable(district=district, metrics=metrics, lookback_s=cfg.latest_lookback_s,
                             max_devices=cfg.latest_max_devices, max_quantities=cfg.latest_max_quantities)
        hub = LiveHub(settings=cfg, district=district, metrics=metrics, latest=latest)
        try:
            if opener.done():
                await latest.ensure_filled(store)
        except StoreError as exc:
            log.warning("store unavailable at startup (%s); latest values are loaded when it answers", exc)
        throttle = LoginThrottle(per_address=cfg.login_attempts_per_address,
                                 per_user=cfg.login_attempts_per_user, window_s=cfg.login_window_s)
        app.state.nzd = ApiState(settings=cfg, district=district, store=store, users=users, hub=hub,
                                 latest=latest, jwt_secret=jwt_secret, throttle=throttle)
        app.state.access_log = cfg.access_log
        task = asyncio.create_task(hub.run(), name="nzd-api-mqtt")
        refresher = asyncio.create_task(keep_filled(latest, store, every_s=cfg.latest_refresh_s),
                                        name="nzd-api-latest")
        # The background archive reads without the per-request deadline: a week of many firms
        # may take the store longer than a request may wait.
        archiver = asyncio.create_task(keep_archived(
            hub.archive, district.sites,
            archive_compute(store.inner, district, raw_span_ms=int(cfg.raw_span_h * 3_600_000)),
            every_s=cfg.archive_every_s, delay_s=cfg.archive_delay_s), name="nzd-api-archive")
        log.info("API for district %s: %d sites, %d users", district.district, len(district.sites),
                 len(users))
        _freeze_startup_objects()
        try:
            yield
        finally:
            for t in (task, refresher, archiver, opener):
                t.cancel()
            for t in (task, refresher, archiver, opener):
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            await store.close()

    app = FastAPI(
        title="nzd API",
        version=__version__,
        summary="Net-Zero District: live data, history, KPIs, plans, alerts and the dashboard",
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # api.docs_ui serves it from local files
        responses={k: v for k, v in PROBLEM_RESPONSES.items() if k in (401, 422)},
        openapi_tags=[
            {"name": "district", "description": "The registry: district and sites"},
            {"name": "readings", "description": "Latest values, power flows and history"},
            {"name": "kpis", "description": "Energy and KPIs per period"},
            {"name": "water", "description": "Water intake by source, reuse, discharge, allowance"},
            {"name": "plans", "description": "Plans, setpoints and acknowledgements"},
            {"name": "status", "description": "Gateways and devices"},
            {"name": "alerts", "description": "Alerts and their acknowledgement"},
            {"name": "live", "description": "Server-sent events"},
            {"name": "auth", "description": "Login and the current user"},
            {"name": "ops", "description": "Health and metrics"},
        ],
    )
    app.state.metrics = metrics
    install_problem_handlers(app)
    _document_problems(app)
    for router in ROUTERS:
        app.include_router(router)
    limits = settings if settings is not None else ApiSettings()
    app.add_middleware(BodyLimitMiddleware, max_bytes=limits.max_body_bytes)
    app.add_middleware(AccessLogMiddleware, metrics=metrics,
                       enabled=settings.access_log if settings is not None else True)
    cors = limits.cors_origins
    if cors:
        app.add_middleware(CORSMiddleware, allow_origins=cors, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    install_docs(app)
    static_dir = resources.files("api") / "static"
    app.mount("/", StaticFiles(directory=str(static_dir), html=True), name="dashboard")
    return app


def _document_problems(app: FastAPI) -> None:
    """Put the Problem schema, which the error responses reference, into the OpenAPI components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = \
                Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
