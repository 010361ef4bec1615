"""A scenario's output folder: result.json, CSV tables, PNG charts (matplotlib) and an HTML report."""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

__all__ = ["compare", "write_report"]

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        path.write_text("")
        return
    fields = list(dict.fromkeys(k for r in rows for k in r if not isinstance(r[k], dict)))
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _charts(result: dict[str, Any], folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    m = result["monthly"]
    fig, ax = plt.subplots(figsize=(8, 4))
    x = range(12)
    ax.bar(x, [v / 1000 for v in m["pv_kwh"]], label="PV used or fed in", color="#f2b705")
    ax.bar(
        x,
        [v / 1000 for v in m["import_kwh"]],
        bottom=[v / 1000 for v in m["pv_kwh"]],
        label="grid import",
        color="#7a869a",
    )
    ax.plot(x, [v / 1000 for v in m["consumption_kwh"]], "k.-", label="consumption")
    ax.plot(x, [v / 1000 for v in m["shared_kwh"]], "g.-", label="shared")
    ax.set_xticks(list(x), MONTHS)
    ax.set_ylabel("MWh")
    ax.set_title("Monthly energy balance")
    ax.legend(fontsize=8)
    names.append(_save(fig, folder / "monthly_balance.png"))

    d = result["typical_day"]
    fig, ax = plt.subplots(figsize=(8, 4))
    hours = [i * 24 / len(d["load_kw"]) for i in range(len(d["load_kw"]))]
    for key, label in (
        ("load_kw", "load"),
        ("pv_kw", "PV used"),
        ("import_kw", "import"),
        ("export_kw", "export"),
    ):
        ax.plot(hours, d[key], label=label)
    ax.set_xlabel("hour of day")
    ax.set_ylabel("kW (district, mean day)")
    ax.set_title("Typical day")
    ax.legend(fontsize=8)
    names.append(_save(fig, folder / "typical_day.png"))

    flows = result["finance"]["cash_flows_eur"]
    fig, ax = plt.subplots(figsize=(8, 4))
    cum, total = [], 0.0
    for f in flows:
        total += f
        cum.append(total / 1000)
    ax.bar(range(len(flows)), [f / 1000 for f in flows], color="#5b8def", label="yearly")
    ax.plot(range(len(flows)), cum, "k.-", label="cumulative")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("year")
    ax.set_ylabel("kEUR")
    ax.set_title("Cash flow over the lifetime")
    ax.legend(fontsize=8)
    names.append(_save(fig, folder / "cash_flow.png"))

    pts = [p for p in result["co2_curve"] if p["feasible"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([p["co2_t"] for p in pts], [p["annual_cost_eur"] / 1000 for p in pts], "o-")
    for p in pts:
        ax.annotate(f"-{p['reduction_pct']:.0f} %", (p["co2_t"], p["annual_cost_eur"] / 1000), fontsize=8)
    ax.set_xlabel("CO2 t/year")
    ax.set_ylabel("annual cost kEUR")
    ax.set_title("Cost against CO2")
    names.append(_save(fig, folder / "cost_co2.png"))
    return names


def _save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    return html.escape(str(v))


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>none</p>"
    keys = [k for k in rows[0] if not isinstance(rows[0][k], dict | list)]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(k))}</td>" for k in keys) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(result: dict[str, Any], folder: Path) -> list[Path]:
    """Write the folder (created if needed); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(result, indent=1))
    _csv(folder / "surfaces.csv", result["surfaces"])
    _csv(folder / "batteries.csv", result["batteries"])
    _csv(folder / "firms.csv", result["firms"])
    _csv(folder / "co2_curve.csv", result["co2_curve"])
    _csv(folder / "summary.csv", [{"figure": k, "value": v} for k, v in _summary(result).items()])
    charts = _charts(result, folder)
    imgs = "".join(f'<figure><img src="{c}" alt="{c}"></figure>' for c in charts)
    title = html.escape(result["name"])
    page = f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>Scenario {title}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:auto}}td,th{{border:1px solid #ccc;padding:2px 6px}}
table{{border-collapse:collapse}}img{{max-width:100%}}</style>
<h1>Scenario {html.escape(result["name"])}</h1><p>{html.escape(result["description"])}</p>
<h2>Summary</h2>{_table([{"figure": k, "value": v} for k, v in _summary(result).items()])}
<h2>PV per surface</h2>{_table(result["surfaces"])}<h2>Batteries</h2>{_table(result["batteries"])}
<h2>Each firm (statute's split of the incentive)</h2>{_table(result["firms"])}
<h2>Cost against CO2</h2>{_table(result["co2_curve"])}<h2>Charts</h2>{imgs}</html>"""
    (folder / "report.html").write_text(page)
    return sorted(folder.iterdir())


def _summary(r: dict[str, Any]) -> dict[str, Any]:
    y, f = r["year"], r["finance"]
    return {
        "PV kWp": sum(s["kwp"] for s in r["surfaces"]),
        "battery kWh": sum(b["kwh"] for b in r["batteries"]),
        "capex EUR": r["capex_eur"],
        "annual cost EUR (full year)": r["annual_cost_eur"]["full_year"],
        "annual cost EUR (representative days)": r["annual_cost_eur"]["representative_days"],
        "self-sufficiency": y["self_sufficiency"],
        "shared kWh/year": y["shared_kwh"],
        "incentive EUR/year": y["statute_incentive_eur"],
        "CO2 avoided t/year": r["co2_avoided_t_per_year"],
        "NPV EUR": f["npv_eur"],
        "IRR": f["irr"],
        "simple payback years": f["simple_payback_years"],
        "discounted payback years": f["discounted_payback_years"],
        "LCOE EUR/kWh": f["lcoe_eur_per_kwh"],
    }


def compare(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scenarios side by side: one row per figure, one column per scenario."""
    summaries = [(r["name"], _summary(r)) for r in results]
    figures = list(summaries[0][1]) if summaries else []
    return [{"figure": k, **{name: s.get(k) for name, s in summaries}} for k in figures]
