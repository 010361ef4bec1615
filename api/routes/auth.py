"""Login for the dashboard (short-lived JWT) and who the caller is."""

from __future__ import annotations

import asyncio
import math

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth.jwt_tokens import issue_access_token
from api.deps import PrincipalDep, StateDep
from api.problems import ProblemError, problems

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, examples=["rossi"])
    password: str = Field(min_length=1, max_length=256, examples=["demo-only-password"])


class Me(BaseModel):
    user: str = Field(examples=["rossi"])
    role: str = Field(examples=["site_manager"])
    sites: list[str] = Field(description="for a site manager: their sites; an operator sees all",
                             examples=[["tintoria-rossi"]])


class LoginResult(Me):
    access_token: str = Field(examples=["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…"])
    token_type: str = Field("bearer", examples=["bearer"])
    expires_in_s: int = Field(examples=[900])


@router.post("/login", summary="Exchange a username and password for a short-lived JWT",
             responses=problems(401, 429))
async def login(body: LoginBody, state: StateDep, request: Request) -> LoginResult:
    address = request.client.host if request.client else "unknown"
    wait_s = state.throttle.acquire(address=address, username=body.username)
    if wait_s is not None:
        raise ProblemError(429, f"too many login attempts; retry in {math.ceil(wait_s)} s",
                           headers={"Retry-After": str(math.ceil(wait_s))})
    principal = await asyncio.to_thread(state.users.login, body.username, body.password)
    if principal is None:
        raise ProblemError(401, "unknown user or wrong password", title="Login failed")
    state.throttle.succeeded(address=address, username=body.username)
    token = issue_access_token(principal, secret=state.jwt_secret, ttl_s=state.settings.jwt_ttl_s)
    sites = sorted(principal.sites) if principal.sites else [
        s.id for s in state.district.sites if principal.may_see_site(s.id)]
    return LoginResult(user=principal.name, role=principal.role.value, sites=sites, access_token=token,
                       expires_in_s=state.settings.jwt_ttl_s)


@router.get("/me", summary="The caller: name, role and visible sites (public without credentials)")
async def me(principal: PrincipalDep, state: StateDep) -> Me:
    return Me(user=principal.name, role=principal.role.value,
              sites=[s.id for s in state.district.sites if principal.may_see_site(s.id)])
