"""Request planning: every point covered, no limit broken, never more requests than needed.

The minimum is computed independently by breadth-first search over the sets of
covered points, trying every feasible window, so the test does not trust the
greedy argument the planner relies on.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.decode import decode
from gateway.planner import PlanError, ReadRequest, decode_responses, naive_requests, plan, split_response
from gateway.profiles import (
    MAX_BITS_PER_REQUEST,
    MAX_REGISTERS_PER_REQUEST,
    AddressRange,
    DataType,
    Limits,
    Point,
    Table,
    available_profiles,
    load_profile,
)
from nzd.messages import Quality

QUANTITY_NAMES = [f"q{i}" for i in range(64)]


def mk(address: int, count: int = 1, table: Table = Table.HOLDING, unit_id: int | None = None,
       sf: int | None = None, name: str = "x") -> Point:
    dtype = DataType.BIT if table.is_bits else {1: DataType.U16, 2: DataType.U32, 4: DataType.U64}.get(
        count, DataType.STRING)
    return Point(quantity=name, table=table, address=address, type=dtype, count=count, unit_id=unit_id,
                 scale_factor=sf)


# -- an independent exact minimum ------------------------------------------------------


def needed_addresses(points: list[Point]) -> set[int]:
    out: set[int] = set()
    for p in points:
        out.update(range(p.address, p.address + p.count))
        if p.scale_factor is not None:
            out.add(p.scale_factor)
    return out


Ranges = list[tuple[int, int]]


def window_ok(a: int, b: int, needed: set[int], max_count: int, max_gap: int, forbidden: Ranges) -> bool:
    if b - a + 1 > max_count:
        return False
    if any(fa <= b and a <= fb for fa, fb in forbidden):
        return False
    run = 0
    for addr in range(a, b + 1):
        run = 0 if addr in needed else run + 1
        if run > max_gap:
            return False
    return True


def minimum_requests(points: list[Point], max_count: int, max_gap: int, forbidden: Ranges) -> int:
    """Fewest windows so that each point (and its scale factor register) lies in one window."""
    items: list[tuple[int, int]] = []
    for p in points:
        items.append((p.address, p.address + p.count - 1))
        if p.scale_factor is not None:
            items.append((p.scale_factor, p.scale_factor))
    items = sorted(set(items))
    needed = needed_addresses(points)
    disjoint = all(e1 < s2 for (_, e1), (s2, _) in itertools.pairwise(items))
    if disjoint:
        # each window covers a run of consecutive items: shortest partition into feasible runs
        n = len(items)
        best = [0] + [10**9] * n  # best[k]: fewest windows covering items[:k]
        for k in range(1, n + 1):
            for j in range(k):
                if window_ok(items[j][0], items[k - 1][1], needed, max_count, max_gap, forbidden):
                    best[k] = min(best[k], best[j] + 1)
        assert best[n] < 10**9, "infeasible"
        return best[n]
    # overlapping items: breadth-first search over the sets of covered items
    n = len(items)
    masks = set()
    for a, _ in items:
        for _, b in items:
            if b >= a and window_ok(a, b, needed, max_count, max_gap, forbidden):
                masks.add(sum(1 << i for i, (s, e) in enumerate(items) if a <= s and e <= b))
    full = (1 << n) - 1
    frontier, seen, depth = {0}, {0}, 0
    while full not in frontier:
        depth += 1
        nxt = {m | w for m in frontier for w in masks} - seen
        if not nxt:
            raise AssertionError("infeasible")
        seen |= nxt
        frontier = nxt
    return depth


# -- the property --------------------------------------------------------------------


@st.composite
def scenarios(draw):
    max_registers = draw(st.integers(min_value=1, max_value=24))
    max_bits = draw(st.integers(min_value=1, max_value=40))
    max_gap = draw(st.integers(min_value=0, max_value=8))
    forbidden: list[AddressRange] = []
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        start = draw(st.integers(min_value=0, max_value=50))
        forbidden.append(AddressRange(table=draw(st.sampled_from([Table.HOLDING, Table.COIL])), start=start,
                                      end=start + draw(st.integers(min_value=0, max_value=6))))
    limits = Limits(max_registers=max_registers, max_bits=max_bits, max_gap=max_gap, forbidden=forbidden)
    points: list[Point] = []
    n = draw(st.integers(min_value=1, max_value=9))
    span = draw(st.sampled_from([12, 25, 60]))  # dense and sparse address maps
    for i in range(n):
        table = draw(st.sampled_from([Table.HOLDING, Table.INPUT, Table.COIL]))
        count = 1 if table.is_bits else draw(st.sampled_from([1, 1, 2, 2, 4]))
        count = min(count, max_registers)
        address = draw(st.integers(min_value=0, max_value=span))
        sf = None
        if not table.is_bits and draw(st.booleans()) and draw(st.booleans()):
            sf = draw(st.integers(min_value=0, max_value=span))
        unit = draw(st.sampled_from([None, None, 2]))
        p = mk(address, count, table, unit, sf, QUANTITY_NAMES[i])
        spans = [(p.address, p.end)] + ([(sf, sf)] if sf is not None else [])
        if sf is not None and p.address <= sf <= p.end:
            continue
        if any(r.table == table and r.start <= e and s <= r.end for r in forbidden for s, e in spans):
            continue
        points.append(p)
    return points, limits


def check_plan(points: list[Point], limits: Limits, requests: list[ReadRequest], unit_id: int = 1) -> None:
    groups: dict[tuple[int, Table], list[Point]] = defaultdict(list)
    for p in points:
        groups[(p.unit_id if p.unit_id is not None else unit_id, p.table)].append(p)
    # every point covered exactly once, with all its words, by a request of its group
    placed = [p for r in requests for p in r.points]
    assert sorted(p.quantity for p in placed) == sorted(p.quantity for p in points)
    for r in requests:
        for p in r.points:
            assert (p.unit_id if p.unit_id is not None else unit_id, p.table) == (r.unit_id, r.table)
            assert r.address <= p.address and p.end <= r.end
            if p.scale_factor is not None:
                assert any(q.unit_id == r.unit_id and q.table == r.table
                           and q.address <= p.scale_factor <= q.end and p.scale_factor in q.scale_factors
                           for q in requests)
    # no request breaks a limit
    for r in requests:
        group = groups[(r.unit_id, r.table)]
        protocol = MAX_BITS_PER_REQUEST if r.table.is_bits else MAX_REGISTERS_PER_REQUEST
        own = limits.max_bits if r.table.is_bits else limits.max_registers
        assert 1 <= r.count <= min(protocol, own)
        forbidden = [(f.start, f.end) for f in limits.forbidden if f.table == r.table]
        assert window_ok(r.address, r.end, needed_addresses(group), r.count, limits.max_gap, forbidden)
    # never more requests than necessary, group by group
    for (uid, table), group in groups.items():
        mine = [r for r in requests if (r.unit_id, r.table) == (uid, table)]
        own = limits.max_bits if table.is_bits else limits.max_registers
        forbidden = [(f.start, f.end) for f in limits.forbidden if f.table == table]
        assert len(mine) == minimum_requests(group, own, limits.max_gap, forbidden)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(scenarios())
def test_plan_covers_respects_limits_and_is_minimal(scenario) -> None:
    points, limits = scenario
    requests = plan(points, limits, unit_id=1)
    check_plan(points, limits, requests)
    assert len(requests) <= naive_requests(points)


# -- examples ------------------------------------------------------------------------


def test_adjacent_points_share_a_request_and_gaps_split() -> None:
    pts = [mk(0, 2, name="a"), mk(2, 2, name="b"), mk(10, 2, name="c")]
    assert [(r.address, r.count) for r in plan(pts, Limits(max_gap=0))] == [(0, 4), (10, 2)]
    assert [(r.address, r.count) for r in plan(pts, Limits(max_gap=6))] == [(0, 12)]


def test_forbidden_range_splits_and_an_unreadable_point_is_refused() -> None:
    pts = [mk(0, 2, name="a"), mk(6, 2, name="b")]
    limits = Limits(max_gap=10, forbidden=[AddressRange(table=Table.HOLDING, start=3, end=3)])
    assert [(r.address, r.count) for r in plan(pts, limits)] == [(0, 2), (6, 2)]
    with pytest.raises(PlanError):
        plan([mk(2, 2)], limits)
    with pytest.raises(PlanError):
        plan([mk(0, 4)], Limits(max_registers=3))


def test_protocol_limit_of_125_registers_and_2000_bits() -> None:
    regs = [mk(a, 1, name=f"r{a}") for a in range(0, 300)]
    reqs = plan(regs, Limits())
    assert [r.count for r in reqs] == [125, 125, 50]
    bits = [mk(a, 1, Table.COIL, name=f"c{a}") for a in range(0, 4001, 40)]
    breqs = plan(bits, Limits(max_gap=100))
    assert [r.count for r in breqs] == [1961, 1961, 1]


def test_units_and_tables_are_planned_separately() -> None:
    pts = [mk(0, name="a"), mk(1, table=Table.INPUT, name="b"), mk(2, unit_id=7, name="c")]
    reqs = plan(pts, Limits(max_gap=10), unit_id=3)
    assert {(r.unit_id, r.table, r.address) for r in reqs} == {
        (3, Table.HOLDING, 0), (3, Table.INPUT, 1), (7, Table.HOLDING, 2)}
    assert {r.function_code for r in reqs} == {3, 4}


def test_split_and_decode_responses_with_a_scale_factor_in_another_request() -> None:
    power = Point(quantity="pv_power_w", table=Table.HOLDING, address=0, type=DataType.I16, count=1,
                  scale_factor=50, not_available=frozenset({0x8000}))
    energy = Point(quantity="pv_energy_wh", table=Table.HOLDING, address=1, type=DataType.U32, count=2)
    reqs = plan([power, energy], Limits(max_gap=0))
    assert [(r.address, r.count, r.scale_factors) for r in reqs] == [(0, 3, ()), (50, 1, (50,))]
    assert split_response(reqs[0], [1234, 0, 5]) == {"pv_power_w": [1234], "pv_energy_wh": [0, 5]}
    out = decode_responses(reqs, [[1234, 0, 5], [0xFFFF]])
    assert out["pv_power_w"].value == pytest.approx(123.4)
    assert out["pv_energy_wh"].value == 5.0
    # the scale factor request failed: the power is bad, the energy still good
    out = decode_responses(reqs, [[1234, 0, 5], None])
    assert out["pv_power_w"].quality is Quality.BAD and out["pv_energy_wh"].quality is None
    out = decode_responses(reqs, [None, [0xFFFF]])
    assert out["pv_power_w"].quality is Quality.COMM_ERROR
    assert decode(energy, None).quality is Quality.COMM_ERROR


@pytest.mark.parametrize("name", available_profiles())
def test_each_shipped_profile_is_planned_with_the_minimum(name: str) -> None:
    profile = load_profile(name)
    points = profile.resolve()
    requests = plan(points, profile.limits, unit_id=1)
    check_plan(points, profile.limits, requests)


# -- the table of docs/profiles.md ------------------------------------------------------

DOC = Path(__file__).parents[2] / "docs" / "profiles.md"
BEGIN, END = "<!-- requests-table:begin -->", "<!-- requests-table:end -->"


def requests_table() -> str:
    """Requests per poll cycle of each shipped profile (default options, device unit id 1)."""
    rows = ["| profile | device | points | naive requests | nzd requests | minimum | registers read |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for name in available_profiles():
        profile = load_profile(name)
        points = profile.resolve()
        requests = plan(points, profile.limits, unit_id=1)
        groups: dict[tuple[int, Table], list[Point]] = defaultdict(list)
        for p in points:
            groups[(p.unit_id if p.unit_id is not None else 1, p.table)].append(p)
        minimum = 0
        for (_, table), group in groups.items():
            own = profile.limits.max_bits if table.is_bits else profile.limits.max_registers
            forbidden = [(f.start, f.end) for f in profile.limits.forbidden if f.table == table]
            minimum += minimum_requests(group, own, profile.limits.max_gap, forbidden)
        rows.append(f"| `{name}` | {profile.manufacturer} {profile.model} | {len(points)} | "
                    f"{naive_requests(points)} | {len(requests)} | {minimum} | "
                    f"{sum(r.count for r in requests)} |")
    return "\n".join(rows)


def test_docs_table_matches_the_planner() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == requests_table(), (
        "docs/profiles.md is out of date; regenerate with: python -m tests.gateway.test_planner")


if __name__ == "__main__":
    print(requests_table())
