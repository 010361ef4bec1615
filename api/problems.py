"""Errors as problem+json (RFC 9457): every error response has a type, title, status and detail."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from nzd.errors import ContractError
from nzd.store.base import StoreError, StoreRejected

__all__ = [
    "PROBLEM_RESPONSES", "Problem", "ProblemError", "install_problem_handlers",
    "problem_response", "problems",
]

log = logging.getLogger("api")

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field("about:blank", examples=["about:blank"])
    title: str = Field(examples=["Forbidden"])
    status: int = Field(examples=[403])
    detail: str = Field(examples=["site manager 'rossi' may not see site 'logistica-prato'"])
    instance: str | None = Field(None, examples=["/api/v1/sites/logistica-prato/latest"])
    errors: list[dict[str, Any]] | None = None
    """For 422: one entry per invalid field, with ``loc`` and ``msg``."""


class ProblemError(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, title: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title or _TITLES.get(status, "Error")
        self.detail = detail
        self.headers = headers


def problem_response(status: int, detail: str, *, title: str | None = None, instance: str | None = None,
                     errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(title=title or _TITLES.get(status, "Error"), status=status, detail=detail,
                   instance=instance, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers,
                        media_type="application/problem+json")


def _problem_content(status: int, detail: str) -> dict[str, Any]:
    return {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"},
        "example": {"type": "about:blank", "title": _TITLES[status], "status": status, "detail": detail},
    }}


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Credentials were given but are not valid",
          "content": _problem_content(401, "the bearer token is not valid or has expired")},
    403: {"description": "The caller may not see this site or do this",
          "content": _problem_content(403, "site manager 'rossi' may not see site 'logistica-prato'")},
    404: {"description": "No such site, device or alert",
          "content": _problem_content(404, "no site 'nowhere' in district 'prato-est'")},
    409: {"description": "The request does not fit the current state (e.g. a proposal decided already)",
          "content": _problem_content(409, "proposal co2_electricity_t-1767225600000 is agreed by operator "
                                           "(operator) already")},
    422: {"description": "A parameter is invalid",
          "content": _problem_content(422, "query.from: must be before 'to'")},
    429: {"description": "Too many attempts; retry after the Retry-After header's seconds",
          "content": _problem_content(429, "too many login attempts; retry in 42 s")},
    503: {"description": "The store or the broker cannot be reached",
          "content": _problem_content(503, "the telemetry store is unavailable; retry later")},
}


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc.status, exc.detail, title=exc.title, instance=request.url.path,
                                headers=exc.headers)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        return problem_response(exc.status_code, detail, instance=request.url.path,
                                headers=getattr(exc, "headers", None))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": _loc(e.get("loc", ())), "msg": str(e.get("msg", "invalid"))} for e in exc.errors()]
        detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]) or "invalid request"
        return problem_response(422, detail, instance=request.url.path, errors=errors)

    async def on_contract(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(422, str(exc), instance=request.url.path)

    async def on_store(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, StoreRejected):
            # The store's own text (InfluxDB's error, line protocol, the query) stays in the log: it
            # shows the schema and other firms' data. The client gets a reference to it.
            ref = secrets.token_hex(4)
            log.warning("store rejected a request for %s [ref %s]: %s", request.url.path, ref, exc)
            return problem_response(400, f"the store refused the request (reference {ref} in the API's log)",
                                    instance=request.url.path)
        log.warning("store unavailable for %s: %s", request.url.path, exc)
        return problem_response(503, "the telemetry store is unavailable; retry later",
                                instance=request.url.path, headers={"Retry-After": "5"})

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "an unexpected error occurred; it has been logged",
                                instance=request.url.path)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(ContractError, on_contract)
    app.add_exception_handler(StoreError, on_store)
    app.add_exception_handler(Exception, on_unexpected)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented problem responses for ``statuses``, for a route's ``responses``."""
    return {s: PROBLEM_RESPONSES[s] for s in statuses}
