"""Lifetime money: NPV, IRR and paybacks against numpy-financial and hand figures."""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest

from coordinator.scenarios import cash_flows, finance, payback_years


def test_npv_and_irr_equal_numpy_financial():
    flows = cash_flows(
        capex_eur=100_000.0,
        yearly_benefit_eur=14_000.0,
        lifetime_years=20,
        degradation=0.005,
        replacement_eur=20_000.0,
        replacement_every_years=10,
    )
    assert flows[0] == -100_000.0
    assert flows[1] == 14_000.0
    assert flows[2] == pytest.approx(14_000.0 * 0.995)
    assert flows[10] == pytest.approx(14_000.0 * 0.995**9 - 20_000.0)
    f = finance(flows, rate=0.05)
    assert f.npv_eur == pytest.approx(npf.npv(0.05, flows))
    assert f.irr == pytest.approx(npf.irr(flows))
    # The IRR is where the NPV is zero.
    assert npf.npv(f.irr, flows) == pytest.approx(0.0, abs=1e-6)


def test_paybacks_by_hand():
    # 1000 out, 300 a year: 3 years and a third.
    flows = cash_flows(capex_eur=1000.0, yearly_benefit_eur=300.0, lifetime_years=10)
    assert payback_years(flows) == pytest.approx(10 / 3)
    f = finance(flows, rate=0.10)
    # Discounted: 300/1.1 + 300/1.21 + 300/1.331 = 746.06; year 4 brings 204.90, year 5 186.28 -> 4.26.
    disc = flows * 1.1 ** -np.arange(11)
    assert f.discounted_payback_years == pytest.approx(4 + (1000 - disc[1:5].sum()) / disc[5])
    assert f.discounted_payback_years == pytest.approx(4.264, abs=1e-3)


def test_never_paid_back_and_no_irr():
    flows = cash_flows(capex_eur=1000.0, yearly_benefit_eur=-10.0, lifetime_years=5)
    f = finance(flows, rate=0.05)
    assert f.simple_payback_years is None and f.discounted_payback_years is None
    assert f.irr is None


def test_lcoe_by_hand():
    # 1000 EUR capex, 10 EUR/year O&M, 1000 kWh/year for 2 years, no discounting: 1020 / 2000.
    flows = cash_flows(capex_eur=1000.0, yearly_benefit_eur=600.0, lifetime_years=2)
    f = finance(flows, rate=0.0, pv_capex_eur=1000.0, pv_om_eur_per_year=10.0, pv_kwh_per_year=1000.0)
    assert f.lcoe_eur_per_kwh == pytest.approx(0.51)
