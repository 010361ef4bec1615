"""The nzd API: FastAPI app, auth, live stream and the dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.settings import ApiSettings

__all__ = ["create_app"]


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the API app (see :func:`api.app.create_app`)."""
    from api.app import create_app as _create_app

    return _create_app(settings)
