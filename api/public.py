"""The public rule: the one gate every figure the public sees passes through.

A district figure is shown to the public only when no single firm can be read from it.
:func:`public_figure` decides per figure: per row and per quantity, derived values
included. A derived value (``load_w`` = grid + PV + battery, consumption, shared energy...)
names every quantity it is built from, each as its firms' contributions; it is shown only
when every one of them would be shown on its own, so that subtracting two public figures
never gives back one that was withheld.

The rule's parameters: at least ``min_firms`` firms contribute (a contribution is a
non-zero, finite value; a firm reporting 0 hides nobody), and, when ``max_share`` is set,
no firm contributes more than that share of the total (the dominance rule).

:func:`viewer_figure` applies the same rule for any viewer: to the firms the viewer may *not*
see. For the public and the authority those are all the firms (it is then
:func:`public_figure`); for a site manager the other firms, since the district total minus
their own figures is the others' sum; the operator sees every figure as it is.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence

__all__ = ["MAX_PUBLIC_SHARE", "MIN_PUBLIC_FIRMS", "contributors", "public_figure", "public_total",
           "viewer_figure", "viewer_total"]

MIN_PUBLIC_FIRMS = 3
"""A figure shown to the public needs at least this many contributing firms (docs/reports.md)."""
MAX_PUBLIC_SHARE: float | None = 0.85
"""No firm may contribute more than this share of a public figure (None: no dominance rule);
with two firms left the other one could read the first from the total, and a firm of 85 %
is read from it to within 15 %."""


def _values(contributions: Iterable[float | None]) -> list[float]:
    return [abs(float(v)) for v in contributions if v is not None and math.isfinite(v) and v != 0.0]


def contributors(contributions: Iterable[float | None]) -> int:
    """How many firms contribute to a figure (non-zero, finite values)."""
    return len(_values(contributions))


def _passes(contributions: Sequence[float | None], *, min_firms: int, max_share: float | None) -> bool:
    values = _values(contributions)
    if not values:
        return True  # nobody contributes: the figure is zero or absent and reveals no one
    if len(values) < min_firms:
        return False
    return max_share is None or max(values) <= max_share * sum(values)


def public_figure(value: float | None, *inputs: Sequence[float | None], min_firms: int = MIN_PUBLIC_FIRMS,
                  max_share: float | None = MAX_PUBLIC_SHARE) -> float | None:
    """``value`` when every input passes the rule, else None.

    Each input is the per-firm contributions of one quantity ``value`` is built from
    (for a plain total, the very values it adds up).
    """
    if value is None or not math.isfinite(value):
        return None
    if not inputs:
        raise ValueError("a public figure must name the contributions it is built from")
    if all(_passes(i, min_firms=min_firms, max_share=max_share) for i in inputs):
        return value
    return None


def public_total(contributions: Sequence[float | None], *, min_firms: int = MIN_PUBLIC_FIRMS,
                 max_share: float | None = MAX_PUBLIC_SHARE) -> float | None:
    """The sum of the firms' contributions, or None when it would reveal a firm (or none reports)."""
    reported = [float(v) for v in contributions if v is not None and math.isfinite(v)]
    if not reported:
        return None
    return public_figure(sum(reported), contributions, min_firms=min_firms, max_share=max_share)


def viewer_figure(value: float | None, *inputs: Sequence[float | None], hidden: Collection[int] | None,
                  min_firms: int = MIN_PUBLIC_FIRMS,
                  max_share: float | None = MAX_PUBLIC_SHARE) -> float | None:
    """A district figure as one viewer may see it.

    ``inputs`` are as for :func:`public_figure`, each with one value per site in one order;
    ``hidden`` the indexes, in that order, of the sites the viewer may not see
    (``Principal.hidden_indexes``). None (the operator): ``value`` as it is. Otherwise ``value``
    when the hidden sites' contributions to every input pass the rule, else None; with every
    index hidden this is :func:`public_figure`.
    """
    if hidden is None:
        return value
    return public_figure(value, *([c[i] for i in hidden] for c in inputs), min_firms=min_firms,
                         max_share=max_share)


def viewer_total(contributions: Sequence[float | None], *, hidden: Collection[int] | None) -> float | None:
    """The sum of the sites' contributions as one viewer may see it (:func:`viewer_figure`); None
    when no site reports."""
    reported = [float(v) for v in contributions if v is not None and math.isfinite(v)]
    if not reported:
        return None
    return viewer_figure(sum(reported), contributions, hidden=hidden)
