"""Request planning: the fewest Modbus read requests that cover a device's points.

Points are grouped by (unit id, table). In each group the addresses a point
needs (its registers, and its scale factor register if it has one) are
intervals; a request is a window ``[address, address + count)`` that

* reads at most ``max_registers`` registers (``max_bits`` bits for coils and
  discrete inputs), never more than the protocol's 125 / 2000;
* contains no forbidden address;
* contains no run of more than ``max_gap`` addresses that no point needs;

and a point is covered when all of its addresses lie in one window. Greedy
left to right is optimal here: start a window at the leftmost uncovered
interval and stretch it as far as the limits allow. Every limit shrinks to a
sub-window (a prefix of a feasible window is feasible), so any optimal plan's
first window can be swapped for the greedy one without covering less.

:func:`split_response` maps a response back to each point's words, and
:func:`decode_responses` runs the decoder over a whole cycle.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from gateway.decode import Reading, decode
from gateway.profiles.schema import (
    MAX_BITS_PER_REQUEST,
    MAX_REGISTERS_PER_REQUEST,
    Limits,
    Point,
    Table,
)
from nzd.messages import Quality

__all__ = [
    "PlanError",
    "ReadRequest",
    "decode_responses",
    "naive_requests",
    "plan",
    "split_response",
]


class PlanError(ValueError):
    """A point cannot be read within the limits (too long, or in a forbidden range)."""


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One read request: ``count`` registers (or bits) of ``table`` from ``address``."""

    unit_id: int
    table: Table
    address: int
    count: int
    points: tuple[Point, ...]
    """Points whose registers all lie in this request."""
    scale_factors: tuple[int, ...] = ()
    """Scale factor register addresses this request reads (for points anywhere)."""

    @property
    def end(self) -> int:
        """Last address read (inclusive)."""
        return self.address + self.count - 1

    @property
    def function_code(self) -> int:
        return {Table.COIL: 1, Table.DISCRETE: 2, Table.HOLDING: 3, Table.INPUT: 4}[self.table]


@dataclass(slots=True)
class _Group:
    intervals: list[tuple[int, int]] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    scale_factors: set[int] = field(default_factory=set)


def _max_count(table: Table, limits: Limits) -> int:
    if table.is_bits:
        return min(limits.max_bits, MAX_BITS_PER_REQUEST)
    return min(limits.max_registers, MAX_REGISTERS_PER_REQUEST)


def _groups(points: Iterable[Point], unit_id: int) -> dict[tuple[int, Table], _Group]:
    groups: dict[tuple[int, Table], _Group] = defaultdict(_Group)
    for p in points:
        g = groups[(p.unit_id if p.unit_id is not None else unit_id, p.table)]
        g.points.append(p)
        g.intervals.append((p.address, p.end))
        if p.scale_factor is not None:
            g.intervals.append((p.scale_factor, p.scale_factor))
            g.scale_factors.add(p.scale_factor)
    return groups


def plan_windows(
    intervals: Sequence[tuple[int, int]],
    *,
    max_count: int,
    max_gap: int,
    forbidden: Sequence[tuple[int, int]] = (),
) -> list[tuple[int, int]]:
    """The minimum list of windows ``(first, last)`` covering every interval.

    ``intervals`` are inclusive ``(first, last)`` address pairs (they may overlap);
    ``forbidden`` inclusive ranges no window may touch. Raises :class:`PlanError`
    when an interval cannot fit any window.
    """
    if not intervals:
        return []
    ivs = sorted(set(intervals))
    bad = sorted(forbidden)
    # needed addresses as merged runs, to measure gaps
    runs: list[list[int]] = []
    for a, b in ivs:
        if runs and a <= runs[-1][1] + 1:
            runs[-1][1] = max(runs[-1][1], b)
        else:
            runs.append([a, b])

    def limit_end(start: int) -> int:
        """The last address a window starting at ``start`` may reach."""
        end = start + max_count - 1
        for fa, fb in bad:
            if fb < start:
                continue
            if fa <= start:
                return start - 1  # the start itself is forbidden
            end = min(end, fa - 1)
            break
        # gaps: the window must stop before a gap longer than max_gap
        for (_, b1), (a2, _) in itertools.pairwise(runs):
            if b1 < start:
                continue
            if a2 - b1 - 1 > max_gap:
                end = min(end, b1)
                break
        return end

    windows: list[tuple[int, int]] = []
    remaining = ivs  # sorted by start; all start at or after the next window's start
    while remaining:
        start, first_end = remaining[0]
        limit = limit_end(start)
        if first_end > limit:
            raise PlanError(f"addresses {start}..{first_end} cannot be read in one request "
                            f"(at most {max_count}, forbidden ranges {bad or 'none'})")
        last = max(e for s, e in remaining if e <= limit)
        windows.append((start, last))
        remaining = [iv for iv in remaining if iv[1] > last]
    return windows


def plan(points: Iterable[Point], limits: Limits | None = None, *, unit_id: int = 1) -> list[ReadRequest]:
    """The read requests of one poll cycle of a device, sorted by unit id, table and address."""
    limits = limits or Limits()
    requests: list[ReadRequest] = []
    groups = sorted(_groups(points, unit_id).items(), key=lambda kv: (kv[0][0], kv[0][1].value))
    for (uid, table), g in groups:
        forbidden = [(r.start, r.end) for r in limits.forbidden if r.table == table]
        windows = plan_windows(g.intervals, max_count=_max_count(table, limits),
                               max_gap=limits.max_gap, forbidden=forbidden)
        placed: set[str] = set()
        for a, b in windows:
            covered = tuple(p for p in g.points if a <= p.address and p.end <= b and p.quantity not in placed)
            placed.update(p.quantity for p in covered)
            sfs = tuple(sorted(s for s in g.scale_factors if a <= s <= b))
            requests.append(ReadRequest(uid, table, a, b - a + 1, covered, sfs))
    return requests


def naive_requests(points: Iterable[Point]) -> int:
    """Requests per cycle when every point is read on its own (scale factors too, once each)."""
    n = 0
    sfs: set[tuple[int | None, Table, int]] = set()
    for p in points:
        n += 1
        if p.scale_factor is not None:
            sfs.add((p.unit_id, p.table, p.scale_factor))
    return n + len(sfs)


def split_response(request: ReadRequest, data: Sequence[int] | Sequence[bool]) -> dict[str, list[int]]:
    """Each covered point's words (by quantity) out of the response ``data`` to ``request``."""
    if len(data) < request.count:
        raise ValueError(f"response has {len(data)} values, the request asked for {request.count}")
    out: dict[str, list[int]] = {}
    for p in request.points:
        first = p.address - request.address
        out[p.quantity] = [int(v) for v in data[first : first + p.count]]
    return out


def decode_responses(
    requests: Sequence[ReadRequest],
    responses: Sequence[Sequence[int] | Sequence[bool] | None],
) -> dict[str, Reading]:
    """Decode a whole cycle: ``responses[i]`` answers ``requests[i]`` (None = failed).

    Points of a failed request come back with ``comm_error``; a point whose
    scale factor register was in a failed request comes back ``bad``.
    """
    if len(requests) != len(responses):
        raise ValueError("one response (or None) per request")
    sf_words: dict[tuple[int, Table, int], int] = {}
    for req, data in zip(requests, responses, strict=True):
        if data is None:
            continue
        for a in req.scale_factors:
            sf_words[(req.unit_id, req.table, a)] = int(data[a - req.address])
    readings: dict[str, Reading] = {}
    for req, data in zip(requests, responses, strict=True):
        if data is None:
            for p in req.points:
                readings[p.quantity] = Reading(None, Quality.COMM_ERROR, None, "request failed")
            continue
        words = split_response(req, data)
        for p in req.points:
            sf = None
            if p.scale_factor is not None:
                sf = sf_words.get((req.unit_id, req.table, p.scale_factor))
                if sf is None:
                    readings[p.quantity] = Reading(None, Quality.BAD, None, "scale factor register not read")
                    continue
            readings[p.quantity] = decode(p, words[p.quantity], sf)
    return readings
