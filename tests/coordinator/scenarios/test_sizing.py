"""Hand-checkable sizing cases: one representative day of 24 hours standing for 365 days."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.scenarios import (
    BatteryCandidates,
    Money,
    SizingError,
    SizingInputs,
    SizingOptions,
    SurfaceCandidates,
    annuity_factor,
    size_district,
)

DAYS = 365.0
SUN = np.where((np.arange(24) >= 6) & (np.arange(24) < 18), 1.0, 0.0)
"""1 kW per kWp for 12 hours a day: 4380 kWh per kWp and year."""


def _surfaces(site_index, max_kwp, *, annual_eur_per_kwp):
    n = len(site_index)
    # No discounting (rate 0, 1 year): the annuity is the capex itself, easy to reckon by hand.
    return SurfaceCandidates(
        ids=tuple(f"roof-{i}" for i in range(n)),
        site_index=np.asarray(site_index, np.int64),
        max_kwp=np.asarray(max_kwp, np.float64),
        capex_eur_per_kwp=np.full(n, annual_eur_per_kwp),
        om_eur_per_kwp_year=np.zeros(n),
        yield_kw_per_kwp=np.tile(SUN, (n, 1)),
        fixed_kwp=np.full(n, np.nan),
    )


def _batteries(site_index=(), *, eur_per_kwh=0.0, n_sites=1):
    n = len(site_index)
    owners = np.zeros((n, n_sites))
    owners[np.arange(n), list(site_index)] = 1.0
    return BatteryCandidates(
        ids=tuple(f"bat-{i}" for i in range(n)),
        site_index=np.asarray(site_index, np.int64),
        owners=owners,
        capex_eur_per_kwh=np.full(n, eur_per_kwh),
        capex_eur_per_kw=np.zeros(n),
        om_eur_per_kwh_year=np.zeros(n),
        round_trip_efficiency=np.full(n, 1.0),
        cycle_life=np.full(n, 1e6),
        max_kwh=np.full(n, 1e4),
        max_kw=np.full(n, 1e4),
        fixed_kwh=np.full(n, np.nan),
        fixed_kw=np.full(n, np.nan),
    )


def _inputs(load_kw, *, surfaces, batteries=None, import_eur=0.25, export_eur=0.05, incentive=0.0):
    load = np.asarray(load_kw, np.float64)
    n = load.shape[0]
    imp = np.broadcast_to(np.asarray(import_eur, np.float64), (n, 24)).copy()
    return SizingInputs(
        site_ids=tuple(f"firm-{i}" for i in range(n)),
        step_h=1.0,
        load_kw=load,
        existing_pv_kw=np.zeros_like(load),
        import_eur_per_kwh=imp,
        export_eur_per_kwh=np.full((n, 24), export_eur),
        emission_g_per_kwh=np.full((n, 24), 400.0),
        import_limit_kw=np.full(n, 1e4),
        export_limit_kw=np.full(n, 1e4),
        configuration_of_site=np.zeros(n, np.int64),
        hour_of_step=np.arange(24),
        shared_eur_per_kwh=np.full((1, 24), incentive),
        weight_of_step=np.full(24, DAYS),
        period_of_step=np.zeros(24, np.int64),
        surfaces=surfaces,
        batteries=batteries or _batteries(n_sites=n),
        money=Money(discount_rate=0.0, lifetime_years=1, battery_lifetime_years=1),
    )


def test_pv_cheaper_than_grid_fills_the_roof():
    # 100 kW all day; PV at 0.10 EUR/kWh (438 EUR per kWp-year / 4380 kWh) against 0.25 from the grid.
    inp = _inputs(np.full((1, 24), 100.0), surfaces=_surfaces([0], [60.0], annual_eur_per_kwp=438.0))
    res = size_district(inp)
    assert res.kwp[0] == pytest.approx(60.0)
    # By hand: 100 kW x 24 h x 365 at 0.25 minus 60 kWp x 4380 kWh x (0.25 - 0.10)
    assert res.annual_cost_eur == pytest.approx(100 * 24 * 365 * 0.25 - 60 * 4380 * 0.15, rel=1e-6)


def test_pv_dearer_than_grid_is_not_built():
    inp = _inputs(np.full((1, 24), 100.0), surfaces=_surfaces([0], [60.0], annual_eur_per_kwp=4380 * 0.3))
    assert size_district(inp).kwp[0] == pytest.approx(0.0, abs=1e-6)


def test_battery_that_spread_and_incentive_cannot_repay_is_zero():
    # Night 0.10, day 0.30: one cycle a day earns at most 0.20 x 365 = 73 EUR per kWh-year.
    price = np.where(SUN > 0, 0.30, 0.10)
    dear = _inputs(
        np.full((1, 24), 50.0),
        surfaces=_surfaces([], [], annual_eur_per_kwp=0.0),
        import_eur=price,
        batteries=_batteries([0], eur_per_kwh=80.0),
        incentive=0.1,
    )
    assert size_district(dear).battery_kwh[0] == pytest.approx(0.0, abs=1e-6)
    # The same battery at 60 EUR per kWh-year pays: it shifts all 12 day hours (600 kWh) to the night.
    cheap = _inputs(
        np.full((1, 24), 50.0),
        surfaces=_surfaces([], [], annual_eur_per_kwp=0.0),
        import_eur=price,
        batteries=_batteries([0], eur_per_kwh=60.0),
        incentive=0.1,
    )
    res = size_district(cheap)
    assert res.battery_kwh[0] == pytest.approx(600.0, rel=1e-6)
    assert res.annual_cost_eur == pytest.approx(50 * 24 * 365 * 0.10 + 600 * 60.0, rel=1e-6)


@pytest.mark.parametrize(("incentive", "kwp", "shared_kwh"), [(0.0, 10.0, 0.0), (0.10, 20.0, 10 * 4380.0)])
def test_incentive_moves_pv_from_self_consumption_to_shared(incentive, kwp, shared_kwh):
    # Firm 0 (a 50 kWp roof) and firm 1 (no roof) each draw 10 kW. PV costs 0.10 EUR/kWh; the grid
    # buys at 0.05. Without an incentive the roof only covers firm 0's own daytime load (10 kWp);
    # at 0.10 EUR/kWh shared, 0.05 + 0.10 > 0.10 so it also covers firm 1's (shared), and no more.
    inp = _inputs(
        np.full((2, 24), 10.0), surfaces=_surfaces([0], [50.0], annual_eur_per_kwp=438.0), incentive=incentive
    )
    res = size_district(inp)
    assert res.kwp[0] == pytest.approx(kwp, rel=1e-6)
    assert (res.shared_kwh.sum() * DAYS) == pytest.approx(shared_kwh, rel=1e-6, abs=1e-3)


def test_co2_cap_forces_pv_beyond_the_cheapest():
    # Dear PV (0.30 EUR/kWh) is not built, unless imports must halve.
    load = np.full((1, 24), 10.0)
    sf = _surfaces([0], [100.0], annual_eur_per_kwp=4380 * 0.3)
    free = size_district(_inputs(load, surfaces=sf))
    assert free.kwp[0] == pytest.approx(0.0, abs=1e-6)
    cap_kg = 0.5 * 10 * 24 * 365 * 0.4
    capped = size_district(_inputs(load, surfaces=sf), SizingOptions(co2_cap_kg=cap_kg))
    # Half of 87,600 kWh must come from PV, all of it in daytime: 43,800 / 4380 = 10 kWp.
    assert capped.kwp[0] == pytest.approx(10.0, rel=1e-6)


def test_budget_cap_and_infeasible_options():
    load = np.full((1, 24), 100.0)
    sf = _surfaces([0], [60.0], annual_eur_per_kwp=438.0)
    assert size_district(_inputs(load, surfaces=sf), SizingOptions(budget_eur=4380.0)).kwp[
        0
    ] == pytest.approx(10.0)
    with pytest.raises(SizingError):
        size_district(_inputs(load, surfaces=sf), SizingOptions(renewable_share_min=0.9))


def test_annuity_factor():
    assert annuity_factor(0.0, 4) == 0.25
    assert annuity_factor(0.05, 20) == pytest.approx(0.05 / (1 - 1.05**-20))


def test_dispatch_in_blocks_equals_the_days_solved_together():
    # Three identical days with a cheap battery: blocks of one day cost what the three days cost
    # together (storage cyclic per day either way), and the sizes' yearly cost is counted once.
    from dataclasses import replace

    from coordinator.scenarios import fixed_sizes
    from coordinator.scenarios._dispatch import dispatch_year

    price = np.where(SUN > 0, 0.30, 0.10)
    one = _inputs(
        np.full((1, 24), 50.0),
        surfaces=_surfaces([0], [20.0], annual_eur_per_kwp=438.0),
        import_eur=price,
        batteries=_batteries([0], eur_per_kwh=60.0),
    )
    three = replace(
        one,
        load_kw=np.tile(one.load_kw, 3),
        existing_pv_kw=np.tile(one.existing_pv_kw, 3),
        import_eur_per_kwh=np.tile(one.import_eur_per_kwh, 3),
        export_eur_per_kwh=np.tile(one.export_eur_per_kwh, 3),
        emission_g_per_kwh=np.tile(one.emission_g_per_kwh, 3),
        hour_of_step=np.arange(72),
        shared_eur_per_kwh=np.tile(one.shared_eur_per_kwh, 3),
        weight_of_step=np.ones(72),
        period_of_step=np.repeat(np.arange(3), 24),
        surfaces=replace(one.surfaces, yield_kw_per_kwp=np.tile(one.surfaces.yield_kw_per_kwp, 3)),
    )
    fixed = fixed_sizes(three, kwp=np.array([20.0]), kwh=np.array([300.0]), kw=np.array([50.0]))
    together = size_district(fixed)
    blocks = dispatch_year(fixed, steps_per_day=24, block_days=1)
    assert blocks.annual_cost_eur == pytest.approx(together.annual_cost_eur, rel=1e-9)
    assert blocks.import_kw.shape == (1, 72)
    # By hand, per day: 20 kWp cover 20 of 50 kW for 12 h; the battery shifts 300 kWh to the night.
    day_eur = 30 * 12 * 0.30 + 50 * 12 * 0.10 - 300 * (0.30 - 0.10)
    assert together.annual_cost_eur == pytest.approx(3 * day_eur + 20 * 438.0 + 300 * 60.0, rel=1e-9)
