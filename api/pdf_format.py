"""How the reports write a figure, "not published" where the public rule withheld it."""

from __future__ import annotations

__all__ = ["fmt", "pct"]


def fmt(v: float | None, unit: str = "", digits: int = 1) -> str:
    if v is None:
        return "not published"
    return f"{v:,.{digits}f}{' ' + unit if unit else ''}"


def pct(v: float | None) -> str:
    return "not published" if v is None else f"{100 * v:.1f} %"
