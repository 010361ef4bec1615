"""Shared energy per configuration and hour, and its attribution to the plants that fed it in."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nzd.accounting.settlement._rules import Plant

__all__ = ["attribute_to_plants", "configuration_shared_kwh", "plant_fed_kwh", "round_to_cents"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def configuration_shared_kwh(import_kwh: FloatArray, export_kwh: FloatArray, *,
                             configuration_of_site: IntArray,
                             configurations: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Energy fed in, drawn and shared, [configuration, hour]: min(fed, drawn) among the members
    under the same primary substation (energy is never shared across substations)."""
    fed = np.zeros((configurations, import_kwh.shape[1]))
    drawn = np.zeros_like(fed)
    np.add.at(fed, configuration_of_site, np.nan_to_num(export_kwh))
    np.add.at(drawn, configuration_of_site, np.nan_to_num(import_kwh))
    return fed, drawn, np.minimum(fed, drawn)


def plant_fed_kwh(export_kwh: FloatArray, plants: tuple[Plant, ...]) -> FloatArray:
    """[plant, hour]: a site's energy fed in, split among its plants by their power (one meter per site)."""
    exp = np.nan_to_num(export_kwh)
    site_power = np.zeros(exp.shape[0])
    for p in plants:
        site_power[p.site_index] += p.power_kw
    out = np.zeros((len(plants), exp.shape[1]))
    for i, p in enumerate(plants):
        out[i] = exp[p.site_index] * p.power_kw / site_power[p.site_index]
    return out


def attribute_to_plants(shared_kwh: FloatArray, fed_kwh: FloatArray, plant_fed: FloatArray,
                        plant_configuration: IntArray) -> FloatArray:
    """[plant, hour]: each hour's shared energy of a configuration, pro rata to what each plant fed in."""
    if plant_fed.shape[0] == 0:
        return np.zeros_like(plant_fed)
    fed = fed_kwh[plant_configuration]
    ratio = np.divide(shared_kwh[plant_configuration], fed, out=np.zeros_like(fed), where=fed > 1e-12)
    return np.asarray(plant_fed * ratio, dtype=np.float64)


def round_to_cents(amounts_eur: npt.ArrayLike, total_eur: float) -> FloatArray:
    """Amounts rounded to cents so that they add up exactly to ``total_eur`` rounded to cents
    (largest remainder): statements of all recipients sum to the configuration's incentive."""
    a = np.asarray(amounts_eur, dtype=np.float64) * 100.0
    target = round(total_eur * 100.0)
    floor = np.floor(a)
    short = int(target - floor.sum())
    order = np.argsort(-(a - floor), kind="stable")
    cents = floor.copy()
    if short > 0:
        cents[order[:short]] += 1
    elif short < 0:  # amounts above the total (float noise): take from the smallest remainders
        cents[order[::-1][:-short]] -= 1
    return np.asarray(cents / 100.0, dtype=np.float64)
