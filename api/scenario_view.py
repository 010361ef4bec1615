"""A scenario's result as one viewer may see it: every district figure through the public rule.

The operator sees the whole result. Anyone else sees the rows of the firms they may see (a site
manager: their firm's row, its surfaces and the batteries it has a share in) and each district
figure only when the firms they may *not* see pass the public rule (:func:`api.public.public_figure`)
on every quantity the figure is built from, per row (month, step of the typical day, point of the
cost-CO2 curve). For the public and the authority those are all the firms; for a site manager the
other firms, since a total minus their own row is the others' sum. A withheld figure is ``null``,
as in the KPI routes. The firms' parts come from the result's ``contributions``
(coordinator/scenarios/_contributions.py); a figure whose parts are missing (a result stored before
they were) is withheld. Only the keys listed here reach a viewer other than the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from api.public import viewer_figure

__all__ = ["scenario_view"]

Parts = Sequence[float | None] | None
"""One quantity's per-site values in the order of the result's ``sites`` (None: not stored)."""

_YEAR_KEYS = ("consumption_kwh", "import_kwh", "export_kwh", "pv_kwh", "shared_kwh", "incentive_eur",
              "statute_incentive_eur", "energy_cost_eur", "co2_t", "self_sufficiency")
_MONTH_KEYS = ("consumption_kwh", "pv_kwh", "import_kwh", "export_kwh")
_DAY_KEYS = ("load_kw", "pv_kw", "import_kw", "export_kw")
_SHARED = frozenset({"import_kwh", "export_kwh", "shared_kwh"})
_FINANCE_KEYS = ("yearly_benefit_eur", "npv_eur", "irr", "simple_payback_years", "discounted_payback_years",
                 "cash_flows_eur", "lcoe_eur_per_kwh")


class _Rule:
    """The public rule on the firms a viewer may not see."""

    def __init__(self, sites: Sequence[str], hidden: Collection[str]) -> None:
        self.n = len(sites)
        self.hidden = [i for i, s in enumerate(sites) if s in hidden]

    def passes(self, *parts: Parts) -> bool:
        if any(p is None or len(p) != self.n for p in parts):
            return False  # the parts were not stored: withhold
        return viewer_figure(0.0, *(p for p in parts if p is not None), hidden=self.hidden) is not None

    def __call__(self, value: Any, *parts: Parts) -> Any:
        if value is None or not self.passes(*parts):
            return None
        return value if isinstance(value, list | int | float) else None


def _get(d: Any, *keys: str | int) -> Any:
    for k in keys:
        if isinstance(d, dict) and isinstance(k, str):
            d = d.get(k)
        elif isinstance(d, list) and isinstance(k, int) and 0 <= k < len(d):
            d = d[k]
        else:
            return None
    return d


def _column(rows: Any, k: int) -> Parts:
    """Per site, the k-th value of its row (a month, a step of the typical day)."""
    if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) > k for r in rows):
        return None
    return [r[k] for r in rows]


def _combined(rows: list[tuple[Parts, ...]]) -> tuple[Parts, ...]:
    """Per input, each site's sum over several rows: what their total minus the other rows gives."""

    def add(parts: list[Parts]) -> Parts:
        if any(p is None for p in parts):
            return None
        try:
            return [sum(float(v or 0.0) for v in col) for col in zip(*parts, strict=True)]
        except (TypeError, ValueError):
            return None

    return tuple(add([r[j] for r in rows]) for j in range(len(rows[0])))


Inputs = Callable[[int], dict[str, tuple[Parts, ...]]]
"""Per row index, each figure's inputs in that row."""


def _table(table: Any, keys: tuple[str, ...], inputs: Inputs, rule: _Rule
           ) -> tuple[dict[str, list[Any]] | None, dict[str, list[tuple[Parts, ...]]]]:
    """Rows (months, steps of the typical day) through the rule, and per figure each row's inputs."""
    if not isinstance(table, dict):
        return None, {}
    out: dict[str, list[Any]] = {k: [] for k in keys}
    row_inputs: dict[str, list[tuple[Parts, ...]]] = {k: [] for k in keys}
    for r in range(len(table.get(keys[0]) or [])):
        for k, ins in inputs(r).items():
            out[k].append(rule(_get(table, k, r), *ins))
            row_inputs[k].append(ins)
    return out, row_inputs


def _complement(rows: list[Any], inputs: list[tuple[Parts, ...]], rule: _Rule) -> list[int] | None:
    """Rows to withhold besides those withheld already so that together they pass the rule (the
    year minus the rows shown is their sum); None when no choice does (then the year itself fails).

    The smallest single row that does it, else shown rows added from the smallest up (sums kept
    as they grow: a row costs one addition per site, so 96 steps of 50 firms stay cheap)."""
    withheld = [r for r, v in enumerate(rows) if v is None]
    if not withheld:
        return []
    together = _combined([inputs[r] for r in withheld])
    if rule.passes(*together):
        return []
    shown = sorted((r for r, v in enumerate(rows) if v is not None), key=lambda r: abs(float(rows[r])))
    for r in shown:
        if rule.passes(*_combined([together, inputs[r]])):
            return [r]
    added: list[int] = []
    for r in shown:
        added.append(r)
        together = _combined([together, inputs[r]])
        if rule.passes(*together):
            return added
    return None


_ROWS_OF_TOTAL = {  # a year's figure: the monthly and typical-day figures whose rows add up to it
    "import_kwh": ("import_kwh", "import_kw"),
    "export_kwh": ("export_kwh", "export_kw"),
    "pv_kwh": ("pv_kwh", "pv_kw"),
    "shared_kwh": ("shared_kwh", None),
    "consumption_kwh": ("consumption_kwh", "load_kw"),  # last: the balance of the rows above
}
_BALANCE = {"consumption_kwh", "load_kw"}
"""A row's balance figure, built from its import, export and PV: withheld with any of them."""


def _rows(result: dict[str, Any], parts: Any, rule: _Rule) -> tuple[dict[str, Any], set[str]]:
    """The monthly and typical-day rows, with what keeps the year minus the rows shown from giving
    back rows withheld: more rows withheld (secondary suppression) or, when no choice of rows does
    it, the figure withheld everywhere, in the year and in every row (returned as poisoned)."""
    month_parts, day_parts = _get(parts, "monthly"), _get(parts, "typical_day")

    def month(m: int) -> dict[str, tuple[Parts, ...]]:
        c, v, i, e, rest = (_column(_get(month_parts, k), m) for k in (*_MONTH_KEYS, "balance_rest_kwh"))
        return {"consumption_kwh": (c, i, e, v, rest), "pv_kwh": (v,), "import_kwh": (i,), "export_kwh": (e,),
                "shared_kwh": (i, e)}

    def step(t: int) -> dict[str, tuple[Parts, ...]]:
        load, pv, imp, exp, rest = (_column(_get(day_parts, k), t) for k in (*_DAY_KEYS, "balance_rest_kw"))
        return {"load_kw": (load, imp, exp, pv, rest), "pv_kw": (pv,), "import_kw": (imp,),
                "export_kw": (exp,)}

    monthly, month_inputs = _table(result.get("monthly"), (*_MONTH_KEYS, "shared_kwh"), month, rule)
    day, day_inputs = _table(result.get("typical_day"), _DAY_KEYS, step, rule)
    poisoned: set[str] = set()
    for total, keys in _ROWS_OF_TOTAL.items():
        for table, inputs, key in zip((monthly, day), (month_inputs, day_inputs), keys, strict=True):
            if table is None or key is None:
                continue
            more = _complement(table[key], inputs[key], rule)
            if more is None:
                poisoned.add(total)
                continue
            for r in more:
                table[key][r] = None
                for balance in _BALANCE & set(table):
                    table[balance][r] = None
    for total in poisoned:
        for table, key in zip((monthly, day), _ROWS_OF_TOTAL[total], strict=True):
            if table is not None and key is not None:
                table[key] = [None] * len(table[key])
    return {"monthly": monthly, "typical_day": day}, poisoned


def _close_rows(rows: dict[str, Any], year: dict[str, Any] | None) -> None:
    """A year's figure withheld must not come back as the sum of its rows: when every row of a
    table is shown, the whole table is withheld."""
    for total, keys in _ROWS_OF_TOTAL.items():
        if year is not None and year.get(total) is not None:
            continue
        for table, key in zip((rows["monthly"], rows["typical_day"]), keys, strict=True):
            if table is not None and key is not None and all(v is not None for v in table[key]):
                table[key] = [None] * len(table[key])


def _year(block: Any, parts: Any, rule: _Rule, poisoned: Collection[str] = ()) -> dict[str, Any] | None:
    """The year's figures; ``poisoned`` quantities are withheld, and so is every figure built from them."""
    if not isinstance(block, dict):
        return None
    built_from = {
        "consumption_kwh": ("consumption_kwh", "import_kwh", "export_kwh", "pv_kwh", "balance_rest_kwh"),
        "import_kwh": ("import_kwh",), "export_kwh": ("export_kwh",), "pv_kwh": ("pv_kwh",),
        "shared_kwh": ("import_kwh", "export_kwh"), "incentive_eur": ("import_kwh", "export_kwh"),
        "statute_incentive_eur": ("statute_incentive_eur", "import_kwh", "export_kwh"),
        "energy_cost_eur": ("energy_cost_eur", "import_kwh", "export_kwh"),
        "co2_t": ("co2_t", "import_kwh"),
        "self_sufficiency": ("consumption_kwh", "import_kwh", "export_kwh", "pv_kwh", "balance_rest_kwh"),
    }
    out = {}
    for k in _YEAR_KEYS:
        names = built_from[k]
        # the incentive is the shared energy times its value: withheld with it
        also = {"shared_kwh"} if k in ("incentive_eur", "statute_incentive_eur") else set()
        withheld = bool(set(poisoned) & ({k, *names} | also))
        out[k] = None if withheld else rule(block.get(k), *(_get(parts, n) for n in names))
    return out


def _cost_inputs(parts: Any) -> tuple[Parts, ...]:
    """An LP objective: annuities, O&M and energy per site; shared energy's value from import and export."""
    return (_get(parts, "cost_eur"), _get(parts, "import_kwh"), _get(parts, "export_kwh"))


def _curve(points: Any, parts: Any, base_co2: Parts, rule: _Rule) -> list[dict[str, Any]] | None:
    if not isinstance(points, list):
        return None
    first = _get(parts, 0)
    out = []
    for k, pt in enumerate(points):
        if not isinstance(pt, dict):
            continue
        pp = _get(parts, k)
        co2 = (_get(pp, "co2_t"), _get(pp, "import_kwh"))
        row: dict[str, Any] = {"reduction_pct": pt.get("reduction_pct"), "feasible": pt.get("feasible")}
        if not pt.get("feasible"):
            # an infeasible point shows its cap, a share of the optimum's CO2
            row["co2_t"] = rule(pt.get("co2_t"), _get(first, "co2_t"), _get(first, "import_kwh"))
            out.append(row)
            continue
        row |= {
            "co2_t": rule(pt.get("co2_t"), *co2),
            "annual_cost_eur": rule(pt.get("annual_cost_eur"), *_cost_inputs(pp)),
            "pv_kwp": rule(pt.get("pv_kwp"), _get(pp, "pv_kwp")),
            "battery_kwh": rule(pt.get("battery_kwh"), _get(pp, "battery_kwh")),
            "co2_avoided_t": rule(pt.get("co2_avoided_t"), *co2, base_co2),
        }
        if "eur_per_t_avoided" in pt:
            row["eur_per_t_avoided"] = rule(pt["eur_per_t_avoided"], *co2, *_cost_inputs(pp),
                                            _get(first, "co2_t"), *_cost_inputs(first))
        out.append(row)
    return out


def _firm_rows(result: dict[str, Any], visible: Collection[str]) -> dict[str, list[Any]]:
    """The firms', surfaces' and batteries' rows of the firms the viewer may see."""
    return {
        "firms": [f for f in result.get("firms") or [] if f.get("site") in visible],
        "surfaces": [s for s in result.get("surfaces") or [] if s.get("site") in visible],
        "batteries": [b for b in result.get("batteries") or []
                      if b.get("site") in visible or set(visible) & set(b.get("owners") or {})],
    }


def scenario_view(result: dict[str, Any], *, operator: bool, visible: Collection[str]) -> dict[str, Any]:
    """What a viewer may see of a stored result: ``visible`` are the firms whose rows it may see
    (empty for the public and the authority); every other firm is protected by the public rule."""
    if operator:
        return result
    sites = [str(s) for s in result.get("sites") or []]
    rule = _Rule(sites, hidden=[s for s in sites if s not in visible])
    c = result.get("contributions") or {}
    year, base, money = _get(c, "year"), _get(c, "baseline_year"), _get(c, "money")
    co2, co2_0 = _get(year, "co2_t"), _get(base, "co2_t")
    shared = (_get(year, "import_kwh"), _get(year, "export_kwh"))
    rep, full = _get(c, "annual_cost", "representative_days"), _get(c, "annual_cost", "full_year")
    capex, benefit = _get(money, "capex_eur"), _get(money, "benefit_eur")
    lifetime_inputs = (capex, benefit, _get(money, "battery_capex_eur"))
    lcoe_inputs = (_get(money, "pv_capex_eur"), _get(money, "pv_om_eur"), _get(year, "new_pv_kwh"))
    finance = result.get("finance") or {}
    life = result.get("lifetime") or {}
    cost = result.get("annual_cost_eur") or {}
    rows, poisoned = _rows(result, c, rule)

    def unless(names: Collection[str], value: Any, *parts: Parts) -> Any:
        """``value`` through the rule, withheld when built from a poisoned year figure."""
        return None if poisoned & set(names) else rule(value, *parts)

    imp, imp_0 = _get(year, "import_kwh"), _get(base, "import_kwh")
    co2_inputs = (co2, imp, co2_0, imp_0)  # CO2 is imports times a factor
    year_view = _year(result.get("year"), year, rule, poisoned)
    _close_rows(rows, year_view)
    return {
        **{k: result.get(k) for k in ("name", "description", "district", "step_minutes", "solve_s",
                                      "representative_days")},
        "year": year_view,
        "baseline_year": _year(result.get("baseline_year"), base, rule),
        "co2_avoided_t_per_year": unless({"import_kwh"}, result.get("co2_avoided_t_per_year"), *co2_inputs),
        "lifetime": {
            "years": life.get("years"),
            "co2_avoided_t": unless({"import_kwh"}, life.get("co2_avoided_t"), *co2_inputs),
            "shared_kwh": unless(_SHARED, life.get("shared_kwh"), *shared),
            "incentive_eur": unless(_SHARED, life.get("incentive_eur"), *shared),
        },
        "capex_eur": rule(result.get("capex_eur"), capex),
        "pv_kwp_total": rule(sum(float(s.get("kwp") or 0.0) for s in result.get("surfaces") or []),
                             _get(full, "pv_kwp")),
        "battery_kwh_total": rule(sum(float(b.get("kwh") or 0.0) for b in result.get("batteries") or []),
                                  _get(full, "battery_kwh")),
        "annual_cost_eur": {
            "representative_days": rule(cost.get("representative_days"), *_cost_inputs(rep)),
            "full_year": rule(cost.get("full_year"), *_cost_inputs(full)),
            "relative_difference": rule(cost.get("relative_difference"), *_cost_inputs(rep),
                                        *_cost_inputs(full)),
        },
        "finance": {
            k: rule(finance.get(k), *(lcoe_inputs if k == "lcoe_eur_per_kwh"
                                      else (benefit,) if k == "yearly_benefit_eur" else lifetime_inputs))
            for k in _FINANCE_KEYS
        },
        "co2_curve": _curve(result.get("co2_curve"), _get(c, "co2_curve"), co2_0, rule),
        **rows,
        **(_firm_rows(result, visible) if visible else {}),
    }
