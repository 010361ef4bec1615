"""Energy KPIs on hand-computed series."""

from __future__ import annotations

import numpy as np
import pytest

from nzd.accounting.kpis import EnergySeries, energy_kpis, hourly_shared_energy, tariff_series

T0 = 1_782_864_000_000  # 2026-07-01 00:00 UTC


def _series(step: int = 15) -> EnergySeries:
    # Site a: PV, exports in the first quarter of hour 0; site b: draws in the last quarter.
    imp = np.array([[0, 0, 0, 0, 2, 2, 2, 2], [0, 0, 0, 5, 1, 1, 1, 1]], dtype=float)
    exp = np.array([[10, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]], dtype=float)
    pv = np.array([[12, 3, 3, 3, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]], dtype=float)
    return EnergySeries(site_ids=("a", "b"), start_ms=T0, step_minutes=step, import_kwh=imp, export_kwh=exp,
                        pv_kwh=pv)


def _tariff(n: int = 8):
    hours = np.zeros(n, dtype=np.int64)
    return tariff_series(import_eur_per_kwh=[[0.2] * 24, [0.3] * 24], export_eur_per_kwh=[[0.1] * 24] * 2,
                         emission_g_per_kwh=[[250.0] * 24] * 2, local_hour=hours,
                         incentive_eur_per_mwh=100, valorisation_eur_per_mwh=10)


def test_shared_energy_is_the_hourly_minimum_over_members() -> None:
    s = _series()
    hours, shared = hourly_shared_energy(s.import_kwh, s.export_kwh, start_ms=T0, step_minutes=15)
    assert list(hours) == [T0, T0 + 3_600_000]
    assert shared == pytest.approx([5.0, 0.0])  # min(10 fed, 5 drawn); nobody feeds in during hour 1


def test_hourly_site_and_district_kpis() -> None:
    k = energy_kpis(_series(), _tariff(), period="hour", timezone="UTC")
    assert list(k.period_start_ms) == [T0, T0 + 3_600_000]
    a, b = 0, 1
    assert k.sites.consumption_kwh[a] == pytest.approx([11.0, 8.0])  # 0 - 10 + 21; 8 - 0 + 0
    assert k.sites.self_consumption_kwh[a] == pytest.approx([11.0, 0.0])
    assert k.sites.self_consumption_ratio[a, 0] == pytest.approx(11 / 21)
    assert np.isnan(k.sites.self_consumption_ratio[b, 0])
    assert k.sites.self_sufficiency[a] == pytest.approx([1.0, 0.0])
    assert k.sites.cost_eur[a] == pytest.approx([-1.0, 8 * 0.2])
    assert k.sites.cost_eur[b] == pytest.approx([5 * 0.3, 4 * 0.3])
    assert k.sites.peak_kw[b] == pytest.approx([20.0, 4.0])  # 5 kWh in 15 min
    assert k.sites.co2_kg[b] == pytest.approx([1.25, 1.0])
    d = k.district
    assert d.shared_kwh == pytest.approx([5.0, 0.0])
    assert d.incentive_eur == pytest.approx([0.55, 0.0])
    assert d.cost_eur == pytest.approx([-1.0 + 1.5 - 0.55, 1.6 + 1.2])
    # Own PV and storage only, then counting the 5 kWh shared in the hour.
    assert d.self_sufficiency[0] == pytest.approx(1 - 5 / 16)
    assert d.self_sufficiency_with_sharing[0] == pytest.approx(1 - (5 - 5) / 16)
    # Site b drew all 5 kWh imported in the hour, so it received all the shared energy.
    assert k.sites.shared_kwh[b] == pytest.approx([5.0, 0.0])
    assert k.sites.self_sufficiency_with_sharing[b, 0] == pytest.approx(1.0)
    assert d.peak_kw == pytest.approx([20.0, 12.0])


def test_daily_totals_and_missing_intervals() -> None:
    s = _series()
    s.import_kwh[1, 7] = np.nan
    k = energy_kpis(s, _tariff(), period="day", timezone="UTC")
    assert k.period_start_ms.size == 1
    assert k.sites.import_kwh[:, 0] == pytest.approx([8.0, 8.0])
    assert k.sites.missing_intervals[:, 0].tolist() == [0, 1]
    assert k.district.shared_kwh == pytest.approx([5.0])


def test_bad_series_are_refused() -> None:
    with pytest.raises(ValueError, match="divide an hour"):
        _series(step=7)
    with pytest.raises(ValueError, match="tariff"):
        energy_kpis(_series(), _tariff(4), period="day", timezone="UTC")


def test_shared_battery_energy_is_split_by_shares() -> None:
    from nzd.accounting.kpis import allocate_by_shares

    discharged = np.array([[10.0, 0.0, 20.0]])
    got = allocate_by_shares(discharged, np.array([[0.4, 0.6]]))
    assert got == pytest.approx(np.array([[4.0, 0.0, 8.0], [6.0, 0.0, 12.0]]))
    with pytest.raises(ValueError, match="add up to 1"):
        allocate_by_shares(discharged, np.array([[0.4, 0.4]]))
