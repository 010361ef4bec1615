"""Short-lived HS256 JWTs for the dashboard, issued by the login route."""

from __future__ import annotations

import time

import jwt

from api.auth.principal import Principal

__all__ = ["access_token_claims", "decode_access_token", "issue_access_token"]

_ISSUER = "nzd-api"


def issue_access_token(principal: Principal, *, secret: str, ttl_s: int) -> str:
    now_s = int(time.time())
    claims = {"sub": principal.name, "role": principal.role.value, "iat": now_s,
              "exp": now_s + ttl_s, "iss": _ISSUER}
    return jwt.encode(claims, secret, algorithm="HS256")


def access_token_claims(token: str, *, secret: str) -> tuple[str, int] | None:
    """``(username, expiry in epoch s)`` of a valid token; None when it is invalid or expired."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=_ISSUER,
                            options={"require": ["sub", "exp", "iat"]})
    except jwt.PyJWTError:
        return None
    sub, exp = claims.get("sub"), claims.get("exp")
    return (sub, exp) if isinstance(sub, str) and isinstance(exp, int) else None


def decode_access_token(token: str, *, secret: str) -> str | None:
    """The username the token was issued to, or None when it is invalid or expired."""
    claims = access_token_claims(token, secret=secret)
    return claims[0] if claims else None
