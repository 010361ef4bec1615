"""Short-lived HS256 JWTs for the dashboard, issued by the login route."""

from __future__ import annotations

import time

import jwt

from api.auth.principal import Principal

__all__ = ["decode_access_token", "issue_access_token"]

_ISSUER = "nzd-api"


def issue_access_token(principal: Principal, *, secret: str, ttl_s: int) -> str:
    now_s = int(time.time())
    claims = {"sub": principal.name, "role": principal.role.value, "iat": now_s,
              "exp": now_s + ttl_s, "iss": _ISSUER}
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_access_token(token: str, *, secret: str) -> str | None:
    """The username the token was issued to, or None when it is invalid or expired."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=_ISSUER,
                            options={"require": ["sub", "exp", "iat"]})
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) else None
