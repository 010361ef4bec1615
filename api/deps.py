"""FastAPI dependencies: the app's state, the caller and the sites they may see."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth.jwt_tokens import access_token_claims
from api.auth.principal import MIN_PUBLIC_SITES, PUBLIC, Principal, Role
from api.problems import ProblemError
from api.state import ApiState
from nzd.config import SiteConfig

__all__ = [
    "MIN_PUBLIC_SITES",
    "OperatorDep",
    "PrincipalDep",
    "SiteDep",
    "SiteManagerDep",
    "StateDep",
    "get_state",
    "guard_public_total",
    "principal_from_token",
]

_bearer = HTTPBearer(auto_error=False, description="An API token (nzd_…) or a JWT from /api/v1/auth/login")


# The dependencies are coroutines although they never wait: FastAPI runs a plain function in a
# worker thread, a hand-off that costs more than what they do, on every request.
async def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.nzd
    return state


StateDep = Annotated[ApiState, Depends(get_state)]


async def principal_from_token(state: ApiState, token: str) -> Principal:
    """The caller a bearer token stands for; raises 401 when it stands for nobody."""
    if token.startswith("nzd_"):
        principal = state.users.cached_token(token)
        if principal is None:  # argon2 is slow by design: keep it off the event loop
            principal = await asyncio.to_thread(state.users.verify_token, token)
    else:
        claims = access_token_claims(token, secret=state.jwt_secret)
        user = state.users.get(claims[0]) if claims else None
        # The expiry goes with the caller, so that a live stream ends with its token.
        principal = replace(user.principal(), expires_at_s=claims[1]) if user and claims else None
    if principal is None:
        raise ProblemError(401, "the bearer token is not valid or has expired",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return principal


async def get_principal(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Anyone without credentials is the public; bad credentials are refused, not downgraded.

    An Authorization header that is not ``Bearer <token>`` (Basic, a bare ``Bearer``) is such a
    bad credential: answered 401, never served as the public.
    """
    if credentials is None and request.headers.get("authorization") is not None:
        raise ProblemError(401, "the Authorization header must be 'Bearer <token>'",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_request"'})
    principal = PUBLIC if credentials is None else await principal_from_token(state, credentials.credentials)
    request.state.user = principal.name  # for the access log
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

SiteId = Annotated[str, Path(description="Site id from the district registry", examples=["tintoria-rossi"],
                             max_length=64)]


async def get_site(site: SiteId, principal: PrincipalDep, state: StateDep) -> SiteConfig:
    """The site, if the caller may see it: 403 outside their scope (existing or not), 404 if absent."""
    if principal.district_only:
        raise ProblemError(403, "the public view shows district aggregates only; log in to see a site")
    if not principal.may_see_site(site):
        raise ProblemError(403, f"{principal.role.value} '{principal.name}' may not see site '{site}'")
    try:
        return state.district.site(site)
    except KeyError:
        raise ProblemError(404, f"no site '{site}' in district '{state.district.district}'") from None


SiteDep = Annotated[SiteConfig, Depends(get_site)]


def guard_public_total(principal: Principal, contributing: int, what: str) -> None:
    if principal.district_only and contributing < MIN_PUBLIC_SITES:
        raise ProblemError(403, f"only {contributing} firm(s) report {what}: a district total would show a "
                                "single firm's data, so the public view does not show it")


async def require_operator(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.OPERATOR:
        raise ProblemError(403, f"only the district operator may do this ({principal.role.value} "
                                f"'{principal.name}' asked)")
    return principal


OperatorDep = Annotated[Principal, Depends(require_operator)]


async def require_site_manager(principal: PrincipalDep, site: SiteDep) -> Principal:
    """An operator, or a site manager of the site in the path."""
    if principal.district_only:
        raise ProblemError(403, "log in as a site manager or operator to do this")
    return principal


SiteManagerDep = Annotated[Principal, Depends(require_site_manager)]
