"""Energy and KPIs per period, for a site and for the district."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["kpis"])
