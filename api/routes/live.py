"""The live stream as server-sent events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth.principal import Principal
from api.deps import StateDep, get_principal, principal_from_token
from api.live import LiveStreamResponse
from api.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["live"])

_DOC = """\
Server-sent events, filtered by the caller's scope:

- `hello`: once, with the caller's role and sites (the stream is live from here on);
- `reading`: a telemetry message (`site` plus the MQTT payload);
- `status`: a gateway status message; `setpoint`, `alert`: as on MQTT;
- `plan`: a new plan reached the site (`site`, `plan_id`);
- `district`: district totals of grid, PV, battery, loads, water (at most once a second; the only
  event the public receives).

A client that falls `NZD_LIVE_QUEUE_SIZE` events behind is disconnected; reconnect and reload.
"""


@router.get("/live", summary="Live readings, status changes, plans and alerts (SSE)", description=_DOC,
            response_class=LiveStreamResponse, status_code=200,
            responses={200: {"content": {"text/event-stream": {"example": (
                'event: reading\ndata: {"site":"tintoria-rossi","device":"main-meter","ts":1764064800000,'
                '"seq":42,"kind":"electricity_meter","values":{"active_power_w":42000.0}}\n\n')}}},
                       401: PROBLEM_RESPONSES[401]})
async def live(
    state: StateDep,
    header_principal: Annotated[Principal, Depends(get_principal)],
    access_token: Annotated[str | None, Query(
        description="A token for clients that cannot send headers (EventSource)", max_length=4096)] = None,
) -> LiveStreamResponse:
    principal = await principal_from_token(state, access_token) if access_token else header_principal
    return LiveStreamResponse(state.hub, state.hub.subscribe(principal))
