"""Health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from api.deps import StateDep

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: str = Field(description="ok, or unavailable when the store does not answer", examples=["ok"])
    store: bool = Field(examples=[True])
    mqtt: bool = Field(description="subscribed to the live topics", examples=[True])
    live_clients: int = Field(examples=[12])


@router.get("/healthz", summary="Liveness and readiness: 200 when the store answers, else 503",
            responses={503: {"model": Health, "description": "The store does not answer"}})
async def healthz(state: StateDep) -> JSONResponse:
    try:
        store_ok = await state.store.ping()
    except Exception:
        store_ok = False
    health = Health(status="ok" if store_ok else "unavailable", store=store_ok,
                    mqtt=state.hub.connected.is_set(), live_clients=len(state.hub.clients))
    return JSONResponse(health.model_dump(), status_code=200 if store_ok else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"example": "nzd_api_live_clients 12.0\n"}}}})
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
