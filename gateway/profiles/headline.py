"""A profile's headline: the quantities a person reads a device by, checked against its points."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.profiles.point import Point
    from gateway.profiles.schema import OptionSpec, PointSpec

__all__ = ["check_headline", "headline_of"]


def _quantities(points: Sequence[PointSpec], options: Mapping[str, OptionSpec]) -> set[str]:
    """Every quantity a point may read: literal names and the values of ``$option`` names."""
    found: set[str] = set()
    for spec in points:
        if not spec.quantity.startswith("$"):
            found.add(spec.quantity)
            continue
        opt = options.get(spec.quantity[1:])
        if opt is not None:
            found |= {str(v) for v in [opt.default, *(opt.choices or [])] if v != "none"}
    return found


def check_headline(headline: Sequence[str], points: Sequence[PointSpec],
                   options: Mapping[str, OptionSpec]) -> Iterator[tuple[tuple[int | str, ...], str]]:
    """``(loc, message)`` for each headline name no point reads, or named twice."""
    known = _quantities(points, options)
    for i, name in enumerate(headline):
        if name not in known:
            yield ("headline", i), (
                f"{name!r} is not a quantity of this profile's points (known: {', '.join(sorted(known))})"
            )
        elif name in headline[:i]:
            yield ("headline", i), f"{name!r} is named twice"


def headline_of(headline: Sequence[str], points: Sequence[Point]) -> list[str]:
    """The headline quantities the resolved ``points`` read (options may leave some out)."""
    have = {p.quantity for p in points}
    return [q for q in headline if q in have]
